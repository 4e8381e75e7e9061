# SPDX-License-Identifier: MIT
"""gpu_load - a cuBLAS load of a fixed duration, through ctypes only (no CUDA SDK, no NumPy).

`python3 scripts/gpu_load.py --seconds 10` runs fp32 matrix products (cublasSgemm_v2, n = 4096
by default) on CUDA device 0 until the time is up, then exits 0; the load `scripts/gpu-check`
measures with `joules run` and `joules repeat`, and the fallback of its Python-binding step.
The inputs are random: the same fp32 bits as N(0,1)-like data switch about as many transistors
as real work, where zeros or a constant would draw less power (docs/ab.md).

CUDA_DEVICE_ORDER=PCI_BUS_ID is set before the runtime loads, so CUDA device 0 is the first GPU
by bus id, which is NVML's (and joules') gpu0. Exit status: 0 done, 1 the libraries or the GPU
failed (a sentence on standard error), 2 wrong arguments.
"""
import argparse
import ctypes
import os
import sys
import time

CUDART_NAMES = ("libcudart.so", "libcudart.so.13", "libcudart.so.12", "libcudart.so.11.0")
CUBLAS_NAMES = ("libcublas.so", "libcublas.so.13", "libcublas.so.12", "libcublas.so.11")
MEMCPY_HOST_TO_DEVICE = 1
INSUFFICIENT_DRIVER = 35  # cudaErrorInsufficientDriver: the runtime is newer than the driver
CUBLAS_OP_N = 0


class LoadError(Exception):
    pass


def _open(env, names, prefer=None):
    """The first library that loads: the path in env when set, else `prefer`, then the names
    in order. Returns (library, the name it was loaded by)."""
    path = os.environ.get(env)
    tried = []
    for name in ([path] if path else ([prefer] if prefer else []) + list(names)):
        try:
            return ctypes.CDLL(name, mode=ctypes.RTLD_LOCAL), name
        except OSError as e:
            tried.append(f"{name}: {e}")
    raise LoadError(f"cannot load {names[0]} ({'; '.join(tried)}); install the CUDA "
                    f"runtime and cuBLAS libraries or name them with {env}")


def _open_runtime():
    """The CUDA runtime and cuBLAS of one release, as ab_exec_cuda.c picks them: newest
    first, and an older release when the newest is newer than the driver."""
    names = list(CUDART_NAMES)
    first_error = None
    while True:
        try:
            rt, name = _open("JOULES_CUDART_LIBRARY", names)
        except LoadError:
            if first_error:  # no older runtime: the newest one's reason stands
                raise LoadError(first_error) from None
            raise
        count = ctypes.c_int(0)
        rc = rt.cudaGetDeviceCount(ctypes.byref(count))
        if rc == 0 and count.value > 0:
            break
        first_error = first_error or (
            f"{name}: cudaGetDeviceCount: CUDA error {rc}, {count.value} GPUs"
            + ("; no NVIDIA driver, or one older than the runtime"
               if rc == INSUFFICIENT_DRIVER else ""))
        later = names[names.index(name) + 1:] if name in names else []
        if rc != INSUFFICIENT_DRIVER or not later:
            raise LoadError(first_error)
        names = later
    i = CUDART_NAMES.index(name) if name in CUDART_NAMES else -1
    blas, _ = _open("JOULES_CUBLAS_LIBRARY", CUBLAS_NAMES, CUBLAS_NAMES[i] if i >= 0 else None)
    return rt, blas


class CublasLoad:
    """Device buffers and a cuBLAS handle for repeated C = A.A products of size n."""

    def __init__(self, n=4096, device=0):
        os.environ.setdefault("CUDA_DEVICE_ORDER", "PCI_BUS_ID")
        self.rt, self.blas = _open_runtime()
        try:
            self._declare()
        except AttributeError as e:
            raise LoadError(f"the CUDA libraries lack a function ({e})") from None
        self.n = n
        self.a = ctypes.c_void_p()
        self.c = ctypes.c_void_p()
        self.handle = ctypes.c_void_p()
        self._cuda("cudaSetDevice", self.rt.cudaSetDevice(device))
        nbytes = n * n * 4
        self._cuda("cudaMalloc", self.rt.cudaMalloc(ctypes.byref(self.a), nbytes))
        self._cuda("cudaMalloc", self.rt.cudaMalloc(ctypes.byref(self.c), nbytes))
        host = _random_floats(n * n)
        self._cuda("cudaMemcpy", self.rt.cudaMemcpy(self.a, host, nbytes, MEMCPY_HOST_TO_DEVICE))
        rc = self.blas.cublasCreate_v2(ctypes.byref(self.handle))
        if rc != 0:
            self.handle = ctypes.c_void_p()
            raise LoadError(f"cublasCreate_v2 failed (cuBLAS status {rc})")
        self.one = ctypes.c_float(1.0)
        self.zero = ctypes.c_float(0.0)

    def _declare(self):
        self.rt.cudaGetErrorString.restype = ctypes.c_char_p
        self.rt.cudaMalloc.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_size_t]
        self.rt.cudaFree.argtypes = [ctypes.c_void_p]
        self.rt.cudaMemcpy.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t,
                                       ctypes.c_int]
        f = ctypes.POINTER(ctypes.c_float)
        self.blas.cublasSgemm_v2.argtypes = [
            ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int,
            f, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_int, f, ctypes.c_void_p,
            ctypes.c_int]
        self.blas.cublasDestroy_v2.argtypes = [ctypes.c_void_p]
        self.blas.cublasCreate_v2.argtypes = [ctypes.POINTER(ctypes.c_void_p)]

    def _cuda(self, what, rc):
        if rc != 0:
            msg = self.rt.cudaGetErrorString(rc)
            raise LoadError(f"{what}: {msg.decode() if msg else 'error'} (CUDA error {rc})")

    def products(self, count):
        """Queue count products (asynchronous: call sync() to wait for them)."""
        n = self.n
        for _ in range(count):
            rc = self.blas.cublasSgemm_v2(self.handle, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n,
                                          ctypes.byref(self.one), self.a, n, self.a, n,
                                          ctypes.byref(self.zero), self.c, n)
            if rc != 0:
                raise LoadError(f"cublasSgemm_v2 failed (cuBLAS status {rc})")

    def sync(self):
        self._cuda("cudaDeviceSynchronize", self.rt.cudaDeviceSynchronize())

    def run_for(self, seconds):
        """Products until `seconds` have passed (checked after each synchronised batch);
        returns how many ran."""
        end = time.monotonic() + seconds
        done, batch = 0, 1
        while True:
            t0 = time.monotonic()
            self.products(batch)
            self.sync()
            done += batch
            now = time.monotonic()
            if now >= end:
                return done
            # Batches of about 20 ms keep the GPU busy between the host's checks.
            per = (now - t0) / batch
            batch = max(1, min(1000, int(0.02 / per) if per > 0 else 1))

    def close(self):
        if self.handle:
            self.blas.cublasDestroy_v2(self.handle)
            self.handle = ctypes.c_void_p()
        for p in (self.a, self.c):
            if p:
                self.rt.cudaFree(p)
        self.a = self.c = ctypes.c_void_p()


def _random_floats(count):
    """count random fp32 values in +/-[0.5, 2): random bits with the exponent byte fixed
    (every fourth byte, little-endian), at C speed through slice assignment."""
    buf = bytearray(os.urandom(count * 4))
    table = bytes((b & 0x80) | 0x3F for b in range(256))
    buf[3::4] = bytes(buf[3::4]).translate(table)
    return (ctypes.c_char * len(buf)).from_buffer(buf)


def main(argv=None):
    ap = argparse.ArgumentParser(description="a cuBLAS fp32 load of a fixed duration")
    ap.add_argument("--seconds", type=float, required=True, help="how long the load lasts")
    ap.add_argument("-n", type=int, default=4096, help="matrix size (default 4096)")
    ap.add_argument("--device", type=int, default=0, help="CUDA device (PCI bus order)")
    args = ap.parse_args(argv)
    if args.seconds <= 0 or args.n <= 0:
        ap.error("--seconds and -n must be positive")
    load = None
    try:
        load = CublasLoad(args.n, args.device)
        done = load.run_for(args.seconds)
    except LoadError as e:
        print(f"gpu_load: {e}", file=sys.stderr)
        return 1
    finally:
        if load:
            load.close()
    print(f"gpu_load: {done} products of n = {args.n} (fp32) in {args.seconds:g} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
