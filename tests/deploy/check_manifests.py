#!/usr/bin/env python3
"""The packaging manifests parse and agree with pgsplit.

No container engine or Kubernetes cluster runs here, so this checks what can be checked on the
machine itself:
  - docker/compose.yaml and deploy/kubernetes/*.yaml parse (PyYAML); deploy/grafana/pgsplit.json
    parses (json);
  - the configurations they carry (docker/pgsplit.toml, the ConfigMap's pgsplit.toml) pass
    `pgsplit --check-config`, and their ports are the defaults (config/pgsplit.example.toml);
  - Dockerfile, compose and Deployment use those ports and /healthz, /readyz; the drain fits the
    grace periods; the Secret holds what the configuration and the Deployment refer to;
  - a real pgsplit started with the ConfigMap's configuration (moved to free loopback ports, its
    nodes unreachable) answers /healthz 200, /readyz 503 and /metrics, and exports every metric
    the Grafana dashboard queries; SIGTERM stops it with exit code 0.

usage: check_manifests.py --binary build/pgsplit --source .
"""
import argparse
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.error
import urllib.request

import yaml

FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL:", what)
    return cond


def port_of(listen):
    return int(listen.rsplit(":", 1)[1])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_config(binary, text, env, name):
    with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
        f.write(text)
        path = f.name
    try:
        r = subprocess.run([binary, "--check-config", path], env=env, capture_output=True,
                           text=True, timeout=60)
        check(r.returncode == 0, f"{name}: pgsplit --check-config failed: {r.stderr.strip()}")
    finally:
        os.unlink(path)


def http_get(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError:
        return 0, ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--source", required=True)
    args = ap.parse_args()
    src = args.source

    # Defaults, as the example file documents them (a unit test checks it against the code).
    with open(os.path.join(src, "config/pgsplit.example.toml"), "rb") as f:
        example = tomllib.load(f)
    default_port = port_of(example["server"]["listen"])
    default_http = port_of(example["server"]["http_listen"])
    check((default_port, default_http) == (6432, 9930),
          f"example defaults are {default_port}/{default_http}")

    # ---- Kubernetes ----
    kdir = os.path.join(src, "deploy/kubernetes")
    docs = []
    for name in sorted(os.listdir(kdir)):
        if name.endswith(".yaml"):
            with open(os.path.join(kdir, name)) as f:
                docs += [d for d in yaml.safe_load_all(f) if d]
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)
    kust = by_kind["Kustomization"][0]
    for r in kust["resources"]:
        check(os.path.exists(os.path.join(kdir, r)), f"kustomization lists missing {r}")
    cm = by_kind["ConfigMap"][0]
    secret = by_kind["Secret"][0]
    dep = by_kind["Deployment"][0]
    cm_text = cm["data"]["pgsplit.toml"]
    cm_cfg = tomllib.loads(cm_text)
    http_port = port_of(cm_cfg["server"]["http_listen"])
    pg_port = port_of(cm_cfg["server"]["listen"])
    check(http_port == default_http, f"ConfigMap http_listen port {http_port} != {default_http}")
    check(pg_port == default_port, f"ConfigMap listen port {pg_port} != {default_port}")
    check(cm_cfg["server"]["http_listen"].startswith("0.0.0.0:"),
          "the kubelet probes the pod's address: http_listen must not be loopback only")
    drain_s = cm_cfg["server"]["shutdown_timeout_ms"] / 1000

    pod = dep["spec"]["template"]["spec"]
    containers = {c["name"]: c for c in pod["containers"]}
    px = containers["pgsplit"]
    ports = {p["name"]: p["containerPort"] for p in px["ports"]}
    check(ports.get("http") == http_port, f"pgsplit container http port {ports.get('http')}")
    check(ports.get("postgres") == pg_port, f"pgsplit container postgres port {ports.get('postgres')}")
    check(px["args"] == ["--config", "/etc/pgsplit/pgsplit.toml"], f"args {px['args']}")

    def probe_port(p):
        port = p["httpGet"]["port"]
        return ports.get(port) if isinstance(port, str) else port

    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz"),
                        ("startupProbe", "/healthz")):
        p = px.get(probe)
        if check(p is not None, f"pgsplit has no {probe}"):
            check(p["httpGet"]["path"] == path, f"{probe} path {p['httpGet']['path']} != {path}")
            check(probe_port(p) == http_port, f"{probe} port is not the HTTP port")
    ann = dep["spec"]["template"]["metadata"].get("annotations", {})
    check(ann.get("prometheus.io/port") == str(http_port), "prometheus.io/port annotation")
    check(ann.get("prometheus.io/path") == "/metrics", "prometheus.io/path annotation")

    pre = px["lifecycle"]["preStop"]["exec"]["command"]
    check(pre[0] == "sleep", f"preStop {pre}")
    pre_s = float(pre[1])
    grace = pod["terminationGracePeriodSeconds"]
    check(grace >= pre_s + drain_s + 2,
          f"terminationGracePeriodSeconds {grace} < preStop {pre_s} + drain {drain_s} + 2")

    mounts = {m["name"]: m["mountPath"] for m in px["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    check(mounts.get("pgsplit-config") == "/etc/pgsplit", "ConfigMap mounted at /etc/pgsplit")
    check(volumes["pgsplit-config"]["configMap"]["name"] == cm["metadata"]["name"],
          "the config volume names the ConfigMap")
    check(volumes["pgsplit-secrets"]["secret"]["secretName"] == secret["metadata"]["name"],
          "the secret volume names the Secret")
    secret_keys = set(secret.get("stringData", {})) | set(secret.get("data", {}))
    # Every password_file lies in the secret mount and names a key of the Secret.
    for user in cm_cfg["users"]:
        if "password_file" in user:
            d, key = user["password_file"].rsplit("/", 1)
            check(d == mounts["pgsplit-secrets"], f"{user['password_file']} is not in the mount")
            items = {i["path"]: i["key"] for i in volumes["pgsplit-secrets"]["secret"]["items"]}
            check(items.get(key) in secret_keys, f"no Secret key for {user['password_file']}")
    # Every ${VAR} in the ConfigMap is in the pgsplit container's environment, from the Secret.
    env = {e["name"]: e for e in px.get("env", [])}
    for var in re.findall(r'"\$\{([A-Za-z_][A-Za-z0-9_]*)\}"', cm_text):
        e = env.get(var)
        if check(e is not None, f"${{{var}}} is not in the pgsplit container's environment"):
            ref = e["valueFrom"]["secretKeyRef"]
            check(ref["name"] == secret["metadata"]["name"] and ref["key"] in secret_keys,
                  f"{var} does not come from the Secret")
    app_env = {e["name"]: e.get("value", "") for e in containers["app"]["env"]}
    check(f"127.0.0.1:{pg_port}/" in app_env.get("DATABASE_URL", ""),
          "the application connects to the sidecar on localhost")
    check(px["securityContext"].get("runAsUser", 0) != 0, "the sidecar runs as non-root")

    fake_env = dict(os.environ, APP_DB_PASSWORD="x", PGSPLIT_ADMIN_PASSWORD="y")
    with tempfile.TemporaryDirectory() as tmp:
        # The ConfigMap's configuration, with its password file where the test can create it.
        secret_file = os.path.join(tmp, "admin-password")
        with open(secret_file, "w") as f:
            f.write("y\n")
        cm_local = cm_text.replace(mounts["pgsplit-secrets"] + "/admin-password", secret_file)
        check_config(args.binary, cm_local, fake_env, "ConfigMap pgsplit.toml")

        # ---- docker ----
        with open(os.path.join(src, "docker/Dockerfile")) as f:
            dockerfile = f.read()
        froms = re.findall(r"^FROM\s+(\S+)", dockerfile, re.M)
        check(froms and all(f == "debian:bookworm-slim" for f in froms) and len(froms) >= 2,
              f"multi-stage on debian:bookworm-slim: {froms}")
        check("scripts/install-deps.sh" in dockerfile and "scripts/build.sh" in dockerfile,
              "the image is built with the repository's scripts")
        user = re.findall(r"^USER\s+(\S+)", dockerfile, re.M)
        check(user and user[-1].split(":")[0] not in ("root", "0"), f"USER {user}")
        expose = set(int(p) for line in re.findall(r"^EXPOSE\s+(.+)$", dockerfile, re.M)
                     for p in line.split())
        check(expose == {default_port, default_http}, f"EXPOSE {expose}")
        hc = re.search(r"HEALTHCHECK.*?CMD\s+(.+)$", dockerfile, re.M | re.S)
        check(hc and f"127.0.0.1:{default_http}/healthz" in hc.group(1), "HEALTHCHECK /healthz")
        check('"/etc/pgsplit/pgsplit.toml"' in dockerfile, "config at /etc/pgsplit/pgsplit.toml")
        for script in ("scripts/install-deps.sh", "scripts/build.sh"):
            check(os.access(os.path.join(src, script), os.X_OK), f"{script} is executable")
        r = subprocess.run(["bash", os.path.join(src, "scripts/install-deps.sh"), "--help"],
                           capture_output=True, text=True)
        check("--build-only" in r.stdout, "install-deps.sh --build-only (the Dockerfile's)")
        r = subprocess.run(["bash", os.path.join(src, "scripts/build.sh"), "--help"],
                           capture_output=True, text=True)
        check("--no-tests" in r.stdout, "build.sh --no-tests (the Dockerfile's)")

        with open(os.path.join(src, "docker/compose.yaml")) as f:
            compose = yaml.safe_load(f)
        svc = compose["services"]
        for name in ("primary", "replica", "pgsplit", "client"):
            check(name in svc, f"compose service {name}")
        ps = svc["pgsplit"]
        check(f"{default_port}:{default_port}" in ps["ports"] and
              f"{default_http}:{default_http}" in ps["ports"], f"compose ports {ps['ports']}")
        check("./pgsplit.toml:/etc/pgsplit/pgsplit.toml:ro" in ps["volumes"], "compose config mount")
        with open(os.path.join(src, "docker/pgsplit.toml")) as f:
            docker_text = f.read()
        docker_cfg = tomllib.loads(docker_text)
        check(port_of(docker_cfg["server"]["listen"]) == default_port, "docker listen port")
        check(port_of(docker_cfg["server"]["http_listen"]) == default_http, "docker http port")
        grace = ps["stop_grace_period"]
        check(int(grace.rstrip("s")) > docker_cfg["server"]["shutdown_timeout_ms"] / 1000,
              "compose stop_grace_period covers the drain")
        hosts = {n["host"] for n in docker_cfg["nodes"]}
        check(hosts <= set(svc), f"docker/pgsplit.toml nodes {hosts} are compose services")
        for var in re.findall(r'"\$\{([A-Za-z_][A-Za-z0-9_]*)\}"', docker_text):
            check(var in ps.get("environment", {}), f"compose gives pgsplit ${{{var}}}")
        check_config(args.binary, docker_text, fake_env, "docker/pgsplit.toml")
        client = " ".join(svc["client"]["command"])
        check(f"@pgsplit:{default_port}/" in client, "the client example goes through pgsplit")

        # ---- Grafana ----
        with open(os.path.join(src, "deploy/grafana/pgsplit.json")) as f:
            dash = json.load(f)
        exprs = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
        check(len(exprs) >= 10, "the dashboard has panels")
        used = set()
        for e in exprs:
            used |= set(re.findall(r"\bpgsplit_[a-z_]+\b", e))
        for v in dash["templating"]["list"]:
            used |= set(re.findall(r"\bpgsplit_[a-z_]+\b", str(v.get("query", ""))))

        # ---- a live pgsplit with the ConfigMap's configuration ----
        port, http = free_port(), free_port()
        dead = free_port()  # nothing listens there: the nodes are down, quickly
        live = cm_local.replace(f'listen = "127.0.0.1:{pg_port}"', f'listen = "127.0.0.1:{port}"')
        live = live.replace(f'http_listen = "0.0.0.0:{http_port}"',
                            f'http_listen = "127.0.0.1:{http}"')
        live = re.sub(r'host = "[^"]+"\nport = \d+', f'host = "127.0.0.1"\nport = {dead}', live)
        check(str(port) in live and str(http) in live and str(dead) in live,
              "the live configuration was rewritten")
        cfg_path = os.path.join(tmp, "live.toml")
        with open(cfg_path, "w") as f:
            f.write(live)
        log_path = os.path.join(tmp, "live.log")
        with open(log_path, "w") as log:
            proc = subprocess.Popen([args.binary, "--config", cfg_path], env=fake_env,
                                    stdout=log, stderr=log)
        try:
            status = 0
            for _ in range(300):
                status, _ = http_get(http, "/healthz")
                if status or proc.poll() is not None:
                    break
                time.sleep(0.05)
            check(status == 200, f"/healthz answered {status}")
            status, body = http_get(http, "/readyz")
            check(status == 503, f"/readyz with no node reachable answered {status}: {body}")
            status, metrics = http_get(http, "/metrics")
            check(status == 200, f"/metrics answered {status}")
            exported = set(re.findall(r"^# TYPE (pgsplit_[a-z_]+) ", metrics, re.M))
            check(len(exported) >= 20, f"/metrics exports {len(exported)} families")
            for name in sorted(used):
                check(name in exported, f"the dashboard queries {name}, which pgsplit does not export")
            status, _ = http_get(http, "/nodes")
            check(status == 200, f"/nodes answered {status}")
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=30)
            check(code == 0, f"pgsplit exited {code} on SIGTERM")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        with open(log_path) as f:
            log_text = f.read()
        for line in log_text.splitlines():
            try:
                json.loads(line)
            except ValueError:
                check(False, f"the ConfigMap asks for JSON logs; not JSON: {line!r}")
                break

    if FAILURES:
        print(f"{len(FAILURES)} problem(s)", file=sys.stderr)
        return 1
    print(f"ok: manifests agree with pgsplit ({len(used)} dashboard metrics exported, "
          f"ports {default_port}/{default_http}, drain {drain_s:g} s in a {pod['terminationGracePeriodSeconds']} s grace)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
