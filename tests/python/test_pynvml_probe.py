# SPDX-License-Identifier: MIT
"""NVIDIA's own Python binding (nvidia-ml-py, `import pynvml`) against the simulated GPU, where
it is installed: on each profile, every call of docs/nvml-coverage.md resolves (no
FunctionNotFound) and answers a value or an NVMLError, never another exception; the A6000
answers NotSupported where its real board prints N/A. Skipped without pynvml."""
import json
import os
import subprocess
import sys
import unittest

import jtest  # noqa: F401  (the environment of the binding's tests)

PROBE = r'''
import json, sys
import pynvml as n
n.nvmlInit()
h = n.nvmlDeviceGetHandleByIndex(0)
calls = [
    ("nvmlDeviceGetBrand", (h,)), ("nvmlDeviceGetSerial", (h,)),
    ("nvmlDeviceGetMinorNumber", (h,)), ("nvmlDeviceGetBoardId", (h,)),
    ("nvmlDeviceGetMultiGpuBoard", (h,)), ("nvmlDeviceGetBoardPartNumber", (h,)),
    ("nvmlDeviceGetVbiosVersion", (h,)), ("nvmlDeviceGetInforomImageVersion", (h,)),
    ("nvmlDeviceGetInforomVersion", (h, n.NVML_INFOROM_OEM)),
    ("nvmlDeviceGetCudaComputeCapability", (h,)), ("nvmlDeviceGetNumGpuCores", (h,)),
    ("nvmlDeviceGetMemoryBusWidth", (h,)), ("nvmlDeviceGetPersistenceMode", (h,)),
    ("nvmlDeviceGetComputeMode", (h,)), ("nvmlDeviceGetDisplayMode", (h,)),
    ("nvmlDeviceGetDisplayActive", (h,)), ("nvmlDeviceGetMigMode", (h,)),
    ("nvmlDeviceGetAccountingMode", (h,)), ("nvmlDeviceGetPowerManagementMode", (h,)),
    ("nvmlDeviceGetPcieSpeed", (h,)), ("nvmlDeviceGetPcieLinkMaxSpeed", (h,)),
    ("nvmlDeviceGetPcieReplayCounter", (h,)), ("nvmlDeviceGetBAR1MemoryInfo", (h,)),
    ("nvmlDeviceGetEccMode", (h,)), ("nvmlDeviceGetRemappedRows", (h,)),
    ("nvmlDeviceGetTotalEccErrors", (h, 1, 0)),
    ("nvmlDeviceGetApplicationsClock", (h, n.NVML_CLOCK_GRAPHICS)),
    ("nvmlDeviceGetDefaultApplicationsClock", (h, n.NVML_CLOCK_GRAPHICS)),
    ("nvmlDeviceGetMaxCustomerBoostClock", (h, n.NVML_CLOCK_GRAPHICS)),
    ("nvmlDeviceGetSupportedClocksEventReasons", (h,)),
    ("nvmlDeviceGetViolationStatus", (h, 0)), ("nvmlDeviceGetNumFans", (h,)),
    ("nvmlDeviceGetNvLinkState", (h, 0)), ("nvmlDeviceGetCpuAffinity", (h, 4)),
    ("nvmlDeviceGetComputeRunningProcesses", (h,)),
    ("nvmlDeviceGetMPSComputeRunningProcesses", (h,)),
    ("nvmlDeviceGetProcessUtilization", (h, 0)),
    ("nvmlDeviceGetSamples", (h, 0, 0)), ("nvmlDeviceGetSupportedEventTypes", (h,)),
    ("nvmlDeviceGetMarginTemperature", (h,)),
]
out = {}
for name, args in calls:
    f = getattr(n, name, None)
    if f is None:
        continue  # an older binding
    try:
        f(*args)
        out[name] = "ok"
    except n.NVMLError as e:
        out[name] = "NVMLError %d" % e.value
    except Exception as e:  # noqa: BLE001 (what the probe is for)
        out[name] = "EXCEPTION %s: %s" % (type(e).__name__, e)
n.nvmlShutdown()
print(json.dumps(out))
'''


class TestPynvmlProbe(unittest.TestCase):
    def test_every_call_on_each_profile(self):
        try:
            import pynvml  # noqa: F401
        except ImportError:
            self.skipTest("pynvml (nvidia-ml-py) is not installed")
        lib = os.environ.get("JOULES_SIM_LIBRARY")
        if not lib or not os.path.exists(lib):
            self.skipTest("no simulated GPU library")
        for profile in ["a6000", "a100-sxm4-80gb", "h100-sxm5"]:
            env = dict(os.environ, JOULES_SIM_PROFILE=profile, JOULES_SIM_MACHINE="private",
                       LD_LIBRARY_PATH=os.path.dirname(lib))
            p = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True,
                               text=True, timeout=120)
            self.assertEqual(p.returncode, 0, p.stderr)
            out = json.loads(p.stdout)
            not_found = "NVMLError %d" % 13  # NVML_ERROR_FUNCTION_NOT_FOUND
            for name, answer in out.items():
                self.assertNotEqual(answer, not_found, "%s on %s" % (name, profile))
                self.assertFalse(answer.startswith("EXCEPTION"),
                                 "%s on %s: %s" % (name, profile, answer))
            if profile == "a6000":
                for name in ["nvmlDeviceGetMigMode", "nvmlDeviceGetMaxCustomerBoostClock",
                             "nvmlDeviceGetNvLinkState", "nvmlDeviceGetMarginTemperature"]:
                    if name in out:
                        self.assertEqual(out[name], "NVMLError 3", "%s on a6000" % name)


if __name__ == "__main__":
    unittest.main()
