# SPDX-License-Identifier: MIT
"""`joules serve`, the Prometheus/OpenMetrics exporter, end to end on the simulated GPU.

ServeTest needs nothing but the build: the formats and their negotiation, the 4xx answers,
a slow client, a thousand idle connections, a lost device, a driver reset, the stop on
SIGTERM/SIGINT. PrometheusTest needs Debian's `prometheus` (the server and promtool) and
`python3-prometheus-client`: a real Prometheus scrapes the exporter every second and the rate
of the energy counter it stores must equal the simulated power; promtool finds nothing to
flag in the 0.0.4 output (and only dcgm-exporter's camelCase modelName with --dcgm-labels)
and the client library's strict parser reads the OpenMetrics output. Without those
packages its tests are skipped (CTest shows "Skipped"), never passed.
"""
import http.client
import json
import os
import re
import resource
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

from clitest import BIN, SLACK, CliTestCase, have_sim

PROM_ACCEPT = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
               "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
POWER_W = 250.0
STEADY = f"profile a100\nphase 3600s power={POWER_W:g}\n"
LISTENING = re.compile(r"listening on http://[^ ]+:(\d+)/metrics")


def http_get(port, path="/metrics", accept=None, timeout=5.0):
    """(status, headers, body) of one GET on loopback."""
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if accept:
        req.add_header("Accept", accept)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def raw_request(port, data, timeout=5.0):
    """Send bytes, return the status line of the answer (or '' if the server closed)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        buf = b""
        while b"\r\n" not in buf:
            chunk = s.recv(4096)
            if not chunk:
                break
            buf += chunk
        return buf.split(b"\r\n", 1)[0].decode(errors="replace")


def samples(text, name):
    """{labels text: value} of the samples named name in an exposition."""
    out = {}
    for line in text.splitlines():
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$", line)
        if m and m.group(1) == name:
            out[m.group(2) or ""] = float(m.group(3))
    return out


class Exporter:
    """`joules serve` on a free loopback port, stopped by stop()."""

    def __init__(self, env, *args):
        self.proc = subprocess.Popen([BIN, "serve", "--listen", "127.0.0.1:0", *args], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     bufsize=0)
        # Raw reads: a buffered readline could hold the listening line where select() no
        # longer sees it.
        fd = self.proc.stderr.fileno()
        raw = b""
        deadline = time.monotonic() + 20 * SLACK
        while time.monotonic() < deadline:
            r, _, _ = select.select([fd], [], [], 0.5)
            if r:
                chunk = os.read(fd, 4096)
                if not chunk:
                    break
                raw += chunk
                m = LISTENING.search(raw.decode(errors="replace"))
                if m:
                    self.stderr = raw.decode(errors="replace")
                    self.port = int(m.group(1))
                    return
        self.proc.kill()
        self.proc.wait()
        raise AssertionError(f"joules serve did not start:\n{raw.decode(errors='replace')}")

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            _, err = self.proc.communicate(timeout=10 * SLACK)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        self.stderr += (err or b"").decode(errors="replace")
        return self.proc.returncode


def serve_built(env):
    """The exporter's HTTP server is in this build (libmicrohttpd was found)."""
    p = subprocess.run([BIN, "serve", "--help"], env=env, capture_output=True, text=True,
                       timeout=30)
    return p.returncode == 0 and "Not available in this build" not in p.stdout


class ServeCase(CliTestCase):
    def start(self, scenario=STEADY, *args, env=None):
        path = self.write("s.scn", scenario)
        ex = Exporter(env or self.env(), "--sim", "--scenario", path, "--interval", "100ms", *args)
        self.addCleanup(ex.stop)
        return ex


@unittest.skipUnless(have_sim(), "simulated GPU library not built")
class ServeTest(ServeCase):
    def setUp(self):
        super().setUp()
        if not serve_built(self.env()):
            self.skipTest("joules was built without libmicrohttpd (apt-get install "
                          "libmicrohttpd-dev)")

    def test_usage_errors(self):
        for args in (["--listen", "nowhere:80"], ["--listen", "127.0.0.1:99999"],
                     ["--interval", "0"], ["--interval", "fast"], ["extra"], ["--bogus"]):
            p = self.joules("serve", "--sim", *args)
            self.assertExit(p, 2)
            self.assertIn("joules serve", p.stderr)
        p = self.joules("serve", "--help")
        self.assertExit(p, 0)
        self.assertIn("--listen", p.stdout)

    def test_formats_and_errors(self):
        ex = self.start()
        time.sleep(0.5)
        status, headers, body = http_get(ex.port)
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "text/plain; version=0.0.4; charset=utf-8")
        self.assertIn("# TYPE joules_energy_joules_total counter", body)
        self.assertNotIn("# EOF", body)
        energy = samples(body, "joules_energy_joules_total")
        self.assertEqual(len(energy), 1, body)
        labels = next(iter(energy))
        for want in ('domain="gpu0"', 'kind="gpu"', 'gpu="0"', 'device="nvidia0"',
                     'simulated="1"', "UUID=\"GPU-", "pci_bus_id=", "model_name=", "hostname="):
            self.assertIn(want, labels)
        self.assertNotIn("hpc_job", labels)
        self.assertNotIn("modelName", body)  # only with --dcgm-labels
        self.assertEqual(list(samples(body, "joules_power_watts").values()), [POWER_W])
        # Prometheus's own Accept header gets OpenMetrics; a preference for text gets text.
        status, headers, body = http_get(ex.port, accept=PROM_ACCEPT)
        self.assertEqual(headers["Content-Type"],
                         "application/openmetrics-text; version=1.0.0; charset=utf-8")
        self.assertTrue(body.endswith("# EOF\n"))
        self.assertIn("# TYPE joules_energy_joules counter\n# UNIT joules_energy_joules joules",
                      body)
        for accept in ("text/plain;version=0.0.4;q=0.9,application/openmetrics-text;q=0.5",
                       "application/json", "application/openmetrics-text;version=2.0.0"):
            _, headers, _ = http_get(ex.port, accept=accept)
            self.assertTrue(headers["Content-Type"].startswith("text/plain"), accept)
        # Keep-alive: Prometheus scrapes on one connection.
        conn = http.client.HTTPConnection("127.0.0.1", ex.port, timeout=5)
        for _ in range(3):
            conn.request("GET", "/metrics", headers={"Accept": PROM_ACCEPT})
            r = conn.getresponse()
            self.assertTrue(r.read().endswith(b"# EOF\n"))
            self.assertEqual((r.status, r.getheader("Connection")), (200, None))
        sock = conn.sock
        conn.request("HEAD", "/metrics")
        r = conn.getresponse()
        self.assertEqual((r.status, r.read(), conn.sock), (200, b"", sock))
        conn.close()
        status, headers, body = http_get(ex.port, "/")
        self.assertEqual(status, 200)
        self.assertIn('href="/metrics"', body)
        self.assertIn("gpu0", body)
        # Anything else: the right 4xx.
        self.assertEqual(http_get(ex.port, "/nope")[0], 404)
        self.assertEqual(http_get(ex.port, "/metrics/x")[0], 404)
        self.assertRegex(raw_request(ex.port, b"POST /metrics HTTP/1.1\r\nHost: x\r\n"
                                     b"Content-Length: 2\r\n\r\nab"), r"^HTTP/1\.1 405")
        self.assertRegex(raw_request(ex.port, b"DELETE / HTTP/1.1\r\nHost: x\r\n\r\n"),
                         r"^HTTP/1\.1 405")
        # Malformed requests: a 400 where the request line can be read, the connection
        # closed where it cannot; the next scrape is answered either way.
        self.assertEqual(raw_request(ex.port, b"GARBAGE\r\n\r\n"), "")
        self.assertRegex(raw_request(ex.port, b"GET /metrics FOO/1.1\r\nHost: x\r\n\r\n"),
                         r"^HTTP/1\.1 400")
        self.assertRegex(raw_request(ex.port, b"GET /metrics HTTP/1.1\r\nHost x\r\n\r\n"),
                         r"^HTTP/1\.1 400")
        self.assertRegex(raw_request(ex.port, b"GET /metrics HTTP/1.1\r\nHost: x\r\n"
                                     b"Content-Length: zz\r\n\r\n"), r"^HTTP/1\.1 400")
        big = b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 65536 + b"\r\n\r\n"
        self.assertRegex(raw_request(ex.port, big), r"^HTTP/1\.1 431")
        self.assertEqual(http_get(ex.port)[0], 200)
        self.assertEqual(ex.stop(), 0)
        self.assertIn("stopped by", ex.stderr)

    def test_slow_client_and_a_thousand_connections(self):
        ex = self.start()
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < 1100:
            want = 4096 if hard == resource.RLIM_INFINITY else min(hard, 4096)
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        slow = socket.create_connection(("127.0.0.1", ex.port))
        slow.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")  # the headers never end
        t_slow = time.monotonic()
        idle = []
        try:
            for _ in range(1000):
                idle.append(socket.create_connection(("127.0.0.1", ex.port), timeout=5))
            for k in range(3):  # each on time: within the 1 s scrape interval
                t0 = time.monotonic()
                status, _, body = http_get(ex.port, timeout=2)
                took = time.monotonic() - t0
                self.assertEqual(status, 200)
                self.assertLess(took, 1.0 * SLACK, f"scrape {k} took {took:.3f} s")
                self.assertEqual(len(samples(body, "joules_energy_joules_total")), 1)
                time.sleep(0.2)
        finally:
            for s in idle:
                s.close()
        # The slow client is dropped after the per-connection timeout (10 s).
        slow.settimeout(15 * SLACK)
        try:
            data = slow.recv(4096)
        except ConnectionResetError:
            data = b""
        waited = time.monotonic() - t_slow
        slow.close()
        self.assertEqual(data, b"")
        self.assertLess(waited, 13 * SLACK)
        self.assertEqual(http_get(ex.port)[0], 200)

    def test_lost_device_and_reset(self):
        scenario = STEADY + "fault reset at=0.6s\nfault lost at=1.5s\n"
        ex = self.start(scenario, env=self.env(SLURM_JOB_ID="4242"))
        seen = []
        ups = []
        t_end = time.monotonic() + 2.5
        while time.monotonic() < t_end:
            status, _, body = http_get(ex.port)
            self.assertEqual(status, 200)
            e = list(samples(body, "joules_energy_joules_total").values())
            if e:
                seen.append(e[0])
            ups.append(list(samples(body, "joules_domain_up").values()))
            time.sleep(0.1)
        self.assertIn('hpc_job="4242"', body)
        self.assertGreater(len(seen), 10)
        self.assertEqual(seen, sorted(seen), "the energy counter went down")
        self.assertEqual(ups[0], [1.0])
        self.assertEqual(ups[-1], [0.0])
        self.assertGreater(list(samples(body, "joules_read_errors_total").values())[0], 0)
        self.assertEqual(samples(body, "joules_power_watts"), {})  # no stale gauge
        self.assertIsNone(ex.proc.poll())
        self.assertEqual(ex.stop(signal.SIGINT), 0)
        self.assertIn("stopped by Interrupt", ex.stderr)

    def test_rapl_domains(self):
        # A fake powercap tree: package-0 10 J below its wrap, and its DRAM.
        max_uj = 262143999938
        zones = {"intel-rapl:0": ("package-0", max_uj - 10000000),
                 "intel-rapl:0:1": ("dram", 1000000)}
        for entry, (name, value) in zones.items():
            d = os.path.join(self.sysfs, "class", "powercap", entry)
            os.makedirs(d)
            for f, text in (("name", name), ("max_energy_range_uj", "%d" % max_uj),
                            ("energy_uj", "%020d" % value)):
                with open(os.path.join(d, f), "w") as fh:
                    fh.write(text + "\n")
        ex = self.start()
        body = http_get(ex.port)[2]
        energy = samples(body, "joules_energy_joules_total")
        package = [k for k in energy if 'kind="package"' in k]
        dram = [k for k in energy if 'kind="dram"' in k]
        self.assertEqual(len(package), 1, body)
        self.assertEqual(len(dram), 1, body)
        self.assertIn('zone="package-0"', package[0])
        self.assertIn('domain="cpu0"', package[0])
        self.assertNotIn("simulated", package[0])
        self.assertNotIn("UUID", package[0])
        before = energy[package[0]]
        # 15 J more on the package: across its wrap, the counter goes on.
        path = os.path.join(self.sysfs, "class", "powercap", "intel-rapl:0", "energy_uj")
        with open(path, "r+") as f:
            f.write("%020d\n" % ((max_uj - 10000000 + 15000000) % (max_uj + 1)))
        # The next round sees it (within an interval, unless the machine stalls the sampler).
        deadline = time.monotonic() + 5 * SLACK
        while True:
            time.sleep(0.2)
            after = samples(http_get(ex.port)[2], "joules_energy_joules_total")[package[0]]
            if after > before or time.monotonic() > deadline:
                break
        self.assertAlmostEqual(after - before, 15.0, delta=0.01)

    def test_dcgm_labels(self):
        # --dcgm-labels adds dcgm-exporter's modelName beside model_name; nothing else changes.
        plain = self.start()
        dcgm = self.start(STEADY, "--dcgm-labels")
        time.sleep(0.5)
        body = {}
        for name, ex in (("plain", plain), ("dcgm", dcgm)):
            status, _, body[name] = http_get(ex.port)
            self.assertEqual(status, 200)
        self.assertNotIn("modelName", body["plain"])

        def label_sets(text):
            return sorted(re.sub(r"\} \S+$", "}", l) for l in text.splitlines()
                          if l.startswith("joules_") and "{" in l)
        with_model = label_sets(body["dcgm"])
        self.assertGreater(len(with_model), 5)
        for labels in with_model:
            if 'domain="gpu0"' in labels:
                m = re.search(r',model_name=("[^"]*"),modelName=("[^"]*"),', labels)
                self.assertIsNotNone(m, labels)
                self.assertEqual(m.group(1), m.group(2))
        self.assertEqual([re.sub(r',modelName="[^"]*"', "", l) for l in with_model],
                         label_sets(body["plain"]))

    def test_public_address_warns(self):
        ex = self.start(STEADY, "--listen", "0.0.0.0:0")
        self.assertIn("CVE-2020-8694", ex.stderr)
        self.assertIn("listening on http://0.0.0.0:", ex.stderr)
        self.assertEqual(http_get(ex.port)[0], 200)
        self.assertEqual(ex.stop(), 0, ex.stderr)


def prometheus_client_python():
    """An interpreter that can import prometheus_client (Debian installs it for /usr/bin)."""
    for exe in (sys.executable, "/usr/bin/python3"):
        if exe and os.path.exists(exe) and subprocess.run(
                [exe, "-c", "import prometheus_client.openmetrics.parser"],
                capture_output=True).returncode == 0:
            return exe
    return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@unittest.skipUnless(have_sim(), "simulated GPU library not built")
class PrometheusTest(ServeCase):
    def setUp(self):
        super().setUp()
        missing = [pkg for tool, pkg in (("prometheus", "prometheus"), ("promtool", "prometheus"))
                   if not shutil.which(tool)]
        self.om_python = prometheus_client_python()
        if not self.om_python:
            missing.append("python3-prometheus-client")
        if missing:
            self.skipTest("not installed: " + " ".join(sorted(set(missing))) +
                          " (apt-get install prometheus python3-prometheus-client)")
        if not serve_built(self.env()):
            self.skipTest("joules was built without libmicrohttpd")

    def query(self, port, promql):
        url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
        with urllib.request.urlopen(url, timeout=5) as r:
            doc = json.load(r)
        self.assertEqual(doc["status"], "success", doc)
        return doc["data"]["result"]

    def promtool_lint(self, text):
        """promtool check metrics on a 0.0.4 exposition: (exit status, lines it printed)."""
        lint = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                              text=True, timeout=30)
        return lint.returncode, [l for l in (lint.stdout + lint.stderr).splitlines() if l.strip()]

    def parse_openmetrics(self, ex):
        """The exporter's OpenMetrics output through the client library's strict parser:
        the labels of its gpu0 energy sample."""
        _, _, om = http_get(ex.port, accept=PROM_ACCEPT)
        parse = subprocess.run([self.om_python, "-c", (
            "import json, sys\n"
            "from prometheus_client.openmetrics.parser import text_string_to_metric_families\n"
            "labels = {}\n"
            "for f in text_string_to_metric_families(sys.stdin.read()):\n"
            "    print(f.name, f.type, f.unit, len(f.samples))\n"
            "    if f.name == 'joules_energy_joules':\n"
            "        labels = f.samples[0].labels\n"
            "print(json.dumps(labels))\n")],
            input=om, capture_output=True, text=True, timeout=30)
        self.assertEqual(parse.returncode, 0, parse.stderr)
        self.assertIn("joules_energy_joules counter joules 1", parse.stdout)
        self.assertIn("joules_device info  1", parse.stdout)
        return json.loads(parse.stdout.splitlines()[-1])

    def test_dcgm_labels_lint(self):
        # --dcgm-labels: promtool names the camelCase modelName, once per family that carries
        # the GPU's labels, and nothing else; the OpenMetrics output stays valid.
        ex = self.start(STEADY, "--dcgm-labels")
        _, _, text = http_get(ex.port)
        families = {l.split("{", 1)[0] for l in text.splitlines()
                    if l.startswith("joules_") and "modelName=" in l}
        self.assertIn("joules_energy_joules_total", families)
        rc, problems = self.promtool_lint(text)
        lint = " label names should be written in 'snake_case' not 'camelCase'"
        self.assertEqual(rc, 3, problems)
        self.assertEqual(sorted(problems), sorted(f + lint for f in families), text)
        labels = self.parse_openmetrics(ex)
        self.assertEqual(labels["modelName"], labels["model_name"])
        self.assertTrue(labels["modelName"].startswith("NVIDIA A100"), labels)

    def test_scraped_by_prometheus(self):
        ex = self.start()
        port = free_port()
        config = self.write("prom.yml", (
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
            "scrape_configs:\n  - job_name: joules\n    static_configs:\n"
            f"      - targets: ['127.0.0.1:{ex.port}']\n"))
        log = open(self.path("prometheus.log"), "w")
        prom = subprocess.Popen(["prometheus", f"--config.file={config}",
                                 f"--storage.tsdb.path={self.path('data')}",
                                 f"--web.listen-address=127.0.0.1:{port}"],
                                stdout=log, stderr=log)

        def stop_prometheus():
            prom.terminate()
            try:
                prom.wait(timeout=15)
            except subprocess.TimeoutExpired:
                prom.kill()
                prom.wait()
            log.close()
        self.addCleanup(stop_prometheus)

        # The formats, checked while Prometheus starts: promtool finds nothing to say about
        # the 0.0.4 output, and the strict parser reads the OpenMetrics output.
        _, _, text = http_get(ex.port)
        rc, problems = self.promtool_lint(text)
        self.assertEqual((rc, problems), (0, []), text)
        self.parse_openmetrics(ex)

        # Prometheus up, the target scraped, then 15 s of data.
        deadline = time.monotonic() + 30 * SLACK
        up = False
        while time.monotonic() < deadline and not up:
            time.sleep(0.5)
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/targets",
                                            timeout=2) as r:
                    targets = json.load(r)["data"]["activeTargets"]
                up = any(t["health"] == "up" for t in targets)
            except (urllib.error.URLError, ConnectionError, KeyError):
                pass
        self.assertTrue(up, "Prometheus did not scrape the exporter")
        time.sleep(16)
        # Prometheus negotiated OpenMetrics: the metadata it keeps has the units and the
        # info type, which only that format carries.
        url = (f"http://127.0.0.1:{port}/api/v1/targets/metadata?" +
               urllib.parse.urlencode({"match_target": '{job="joules"}'}))
        with urllib.request.urlopen(url, timeout=5) as r:
            meta = {m["metric"]: (m["type"], m["unit"]) for m in json.load(r)["data"]}
        self.assertEqual(meta.get("joules_energy_joules"), ("counter", "joules"), meta)
        self.assertEqual(meta.get("joules_device"), ("info", ""), meta)
        rate = self.query(port, "rate(joules_energy_joules_total[15s])")
        self.assertEqual(len(rate), 1, rate)
        self.assertEqual(rate[0]["metric"]["simulated"], "1")
        watts = float(rate[0]["value"][1])
        self.assertAlmostEqual(watts, POWER_W, delta=0.02 * POWER_W)
        power = self.query(port, "joules_power_watts")
        self.assertEqual(float(power[0]["value"][1]), POWER_W)
        # The exporter's health: no missed deadline, a fresh reading at every scrape, each
        # scrape within the scrape interval (1 s).
        missed = self.query(port, "max_over_time(joules_exporter_missed_deadlines_total[15s])")
        self.assertEqual(float(missed[0]["value"][1]), 0.0)
        age = self.query(port, "max_over_time(joules_exporter_last_reading_age_seconds[15s])")
        self.assertLess(float(age[0]["value"][1]), 1.0 * SLACK)
        dur = self.query(port, "max_over_time(scrape_duration_seconds[15s])")
        self.assertLess(float(dur[0]["value"][1]), 1.0 * SLACK)
        print(f"\nPrometheus: rate of the energy counter {watts:.3f} W for {POWER_W:g} W "
              f"({100 * (watts / POWER_W - 1):+.3f} %)", file=sys.stderr)


if __name__ == "__main__":
    unittest.main()
