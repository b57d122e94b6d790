#!/usr/bin/env python3
"""certscan's capacity benchmark: one command, one run, every figure side
by side, so that ratios hold even on a shared, noisy machine.

It generates (or reuses) fleets with certscan-gen, measures the
signature-verification ceiling of this machine's OpenSSL, scans each
fleet at 1..N threads, runs the peer programs on the same certificates,
and writes the table to docs/BENCHMARKS.md and the raw figures to
bench/results/latest.json.
"""
import argparse
import collections
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AT = "2026-12-01T00:00:00Z"
SEED = 4242

# The fleets: one signer algorithm, or equal shares of five.
FLEETS = {
    "rsa2048": "rsa2048",
    "mixed": "rsa2048,rsa3072,p256,p384,ed25519",
}

# The algorithms of the ceiling, by their openssl speed names.
SPEED_ALGS = ["rsa2048", "rsa3072", "ecdsap256", "ecdsap384", "ed25519"]

MARK_BEGIN = "<!-- bench:begin -->"
MARK_END = "<!-- bench:end -->"


def log(text):
    print("bench: " + text, file=sys.stderr, flush=True)


def run(cmd, **kwargs):
    return subprocess.run(cmd, check=True, **kwargs)


def fleet_dir(out, kind, devices):
    return os.path.join(out, "fleets", "%s-%d-seed%d" % (kind, devices,
                                                        SEED))


def generate(gen, out, kind, devices, threads):
    """Makes a fleet once; a later run with the same seed reuses it."""
    path = fleet_dir(out, kind, devices)
    if os.path.exists(os.path.join(path, "expected.json")):
        return path
    shards = max(1, devices // 25000)
    log("generating %s fleet of %d devices" % (kind, devices))
    if os.path.exists(path):
        shutil.rmtree(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    run([gen, "--out", path, "--devices", str(devices), "--shards",
         str(shards), "--seed", str(SEED), "--at", AT, "--signers",
         FLEETS[kind], "--defect", "all=0", "--certs-per-device", "0",
         "--os-mix", "windows=50,mac=30,linux=20,other=0",
         "--threads", str(threads)], stdout=subprocess.DEVNULL)
    return path


def replicate(out, kind, base_devices, factor):
    """A fleet `factor` times larger made of links to the base shards."""
    base = fleet_dir(out, kind, base_devices)
    path = fleet_dir(out, kind, base_devices * factor)
    if os.path.exists(os.path.join(path, "rules.json")):
        return path
    os.makedirs(path, exist_ok=True)
    shards = sorted(f for f in os.listdir(base) if f.endswith(".zst"))
    for copy in range(factor):
        for shard in shards:
            os.symlink(os.path.join(base, shard),
                       os.path.join(path, "r%02d-%s" % (copy, shard)))
    for name in ("rules.json", "signers.json"):
        shutil.copy(os.path.join(base, name), path)
    return path


def ceiling(threads, seconds):
    """verify/s of each algorithm from openssl speed, at `threads`."""
    cmd = ["openssl", "speed", "-mr", "-seconds", str(seconds)]
    if threads > 1:
        cmd += ["-multi", str(threads)]
    text = run(cmd + SPEED_ALGS, capture_output=True, text=True).stdout
    rates = {}
    for line in text.splitlines():
        fields = line.split(":")
        if line.startswith("+F2:"):
            rates["rsa%s" % fields[2]] = float(fields[4])
        elif line.startswith("+F4:"):
            rates["ecdsap%s" % fields[2]] = float(fields[4])
        elif line.startswith("+F6:"):
            rates[fields[3].lower()] = float(fields[5])
    return rates


def weighted_ceiling(rates, mix):
    """Signatures/s when each algorithm takes its share of the work."""
    total = sum(mix.values())
    seconds = sum(n / rates[alg] for alg, n in mix.items())
    return total / seconds if seconds else 0.0


def scan(certscan, fleet, threads, out):
    """One scan without per-device files; returns its summary."""
    report = os.path.join(out, "scan")
    started = time.perf_counter()
    # t threads get t cores: the loop thread that reads and merges shares
    # them, so a one-thread figure is the cost of one core.
    cores = "0-%d" % (threads - 1)
    run(["taskset", "-c", cores, certscan, "scan", "-q", "--rules", os.path.join(fleet, "rules.json"),
         "--signers", os.path.join(fleet, "signers.json"), "--at", AT,
         "--threads", str(threads), "--no-devices", "--out", report, fleet],
        stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    with open(os.path.join(report, "summary.json")) as f:
        summary = json.load(f)
    run_info = summary["run"]
    elapsed = run_info["elapsed_seconds"]
    certs = summary["certificates"]
    return {
        "threads": threads,
        "wall_seconds": wall,
        "elapsed_seconds": elapsed,
        "devices": summary["devices"]["read"],
        "certificates": certs["read"],
        "signatures": certs["signatures_checked"],
        "bytes": sum(i["bytes"] for i in summary["inputs"]),
        "certificates_per_second": certs["read"] / elapsed,
        "signatures_per_second": certs["signatures_checked"] / elapsed,
        "devices_per_second": summary["devices"]["read"] / elapsed,
        "megabytes_per_second": sum(i["bytes"] for i in summary["inputs"])
        / 1e6 / elapsed,
        "peak_rss_bytes": run_info["peak_rss_bytes"],
        "read_share": run_info["read_seconds"] / elapsed,
    }


# Where a sample's function belongs, by library and by name prefix.
STAGES = [
    ("signature check (OpenSSL)", lambda dso, sym: "libcrypto" in dso),
    ("reading (zstd, msgpack, records)", lambda dso, sym: "libzstd" in dso
     or sym.startswith(("cs_ingest", "ingest_", "device_", "mp_", "cert_"))),
    ("certificate parsing", lambda dso, sym: sym.startswith(
        ("cs_der", "cs_verify", "cs_time", "parse_", "name_", "take_",
         "ext_", "san_", "eku_"))),
    ("rules", lambda dso, sym: sym.startswith(("cs_posture", "posture_",
                                               "evaluate_", "rule_",
                                               "cs_str_eq"))),
    ("report and fleet findings", lambda dso, sym: sym.startswith(
        ("cs_report", "siphash", "report_"))),
    ("kernel", lambda dso, sym: "kernel" in dso),
]


def profile(certscan, fleet, threads, out):
    """Shares of CPU samples by stage, when perf can sample here."""
    if shutil.which("perf") is None:
        return None
    data = os.path.join(out, "perf.data")
    try:
        run(["perf", "record", "-q", "-o", data, "--", "taskset", "-c",
             "0-%d" % (threads - 1), certscan, "scan", "-q", "--rules",
             os.path.join(fleet, "rules.json"), "--signers",
             os.path.join(fleet, "signers.json"), "--at", AT,
             "--threads", str(threads), "--no-devices", fleet],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        text = run(["perf", "report", "-i", data, "--no-children",
                    "--sort", "dso,sym", "-g", "none", "--stdio"],
                   capture_output=True, text=True).stdout
    except (subprocess.CalledProcessError, OSError):
        return None
    shares = collections.Counter()
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 4 or not fields[0].endswith("%"):
            continue
        share = float(fields[0].rstrip("%"))
        dso, sym = fields[1], fields[3]
        stage = next((name for name, match in STAGES if match(dso, sym)),
                     "other (libc, libuv, scheduling)")
        shares[stage] += share
    return dict(shares)


def median_scan(certscan, fleet, threads, out, repeat):
    """The run with the median rate of `repeat` scans, and the spread."""
    runs = sorted((scan(certscan, fleet, threads, out)
                   for _ in range(max(1, repeat))),
                  key=lambda r: r["signatures_per_second"])
    middle = dict(runs[len(runs) // 2])
    middle["repeats"] = [r["signatures_per_second"] for r in runs]
    return middle


def extract(out, fleet):
    """Every certificate of a fleet in one flat file, and its mix."""
    flat = fleet + ".certs.bin"
    mix_path = fleet + ".mix.json"
    if not os.path.exists(mix_path):
        shards = sorted(os.path.join(fleet, f) for f in os.listdir(fleet)
                        if f.endswith(".zst"))
        run(["/usr/bin/python3", os.path.join(ROOT, "bench",
                                               "extract_certs.py"),
             flat] + shards, stdout=subprocess.DEVNULL)
        with open(mix_path, "w") as f:
            json.dump(signature_mix(fleet, flat), f)
    with open(mix_path) as f:
        return flat, json.load(f)


def key_algorithm(key):
    """The openssl speed name of the algorithm that verifies with `key`."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    if isinstance(key, rsa.RSAPublicKey):
        return "rsa%d" % key.key_size
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "ecdsap%d" % key.curve.key_size
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "ed25519"
    return "other"


def signature_mix(fleet, flat):
    """How many certificates each signer algorithm verifies."""
    from cryptography import x509
    import struct
    with open(os.path.join(fleet, "signers.json")) as f:
        entries = json.load(f)["result"]
    algs = {}
    for entry in entries:
        signer = x509.load_pem_x509_certificate(
            entry["certificates"].encode())
        algs[signer.subject.public_bytes()] = key_algorithm(
            signer.public_key())
    mix = collections.Counter()
    with open(flat, "rb") as f:
        data = f.read()
    pos = 0
    while pos + 4 <= len(data):
        (length,) = struct.unpack_from(">I", data, pos)
        cert = x509.load_der_x509_certificate(data[pos + 4:pos + 4 + length])
        pos += 4 + length
        mix[algs.get(cert.issuer.public_bytes(), "other")] += 1
    return dict(mix)


def peers(fleet, flat, threads):
    results = []
    signers = os.path.join(fleet, "signers.json")
    script = os.path.join(ROOT, "bench", "peers", "verify_py.py")
    text = run(["/usr/bin/python3", script, signers, flat, str(threads)],
               capture_output=True, text=True).stdout
    results.append(json.loads(text))
    go = shutil.which("go")
    if go:
        binary = os.path.join(os.path.dirname(flat), "verify_go")
        env = dict(os.environ, GOFLAGS="-mod=mod", GO111MODULE="off",
                   GOCACHE=os.path.join(os.path.dirname(flat), "gocache"))
        run([go, "build", "-o", binary,
             os.path.join(ROOT, "bench", "peers", "verify_go.go")], env=env)
        text = run([binary, signers, flat, str(threads)],
                   capture_output=True, text=True).stdout
        results.append(json.loads(text))
    for peer in results:
        peer["certificates_per_second"] = peer["certificates"] / \
            peer["seconds"]
    return results


def machine():
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    openssl = run(["openssl", "version"], capture_output=True,
                  text=True).stdout.strip()
    return {"cpu": cpu, "cores": os.cpu_count(), "kernel":
            platform.release(), "openssl": openssl}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--sizes", default="10000,100000,1000000",
                        help="devices per fleet; the largest may be made "
                        "by replicating the one before it")
    parser.add_argument("--kinds", default="rsa2048,mixed")
    parser.add_argument("--large-kinds", default="rsa2048",
                        help="kinds scanned at the largest size")
    parser.add_argument("--repeat", type=int, default=3,
                        help="scans per figure; the median is kept")
    parser.add_argument("--seconds", type=int, default=3,
                        help="seconds per algorithm for openssl speed")
    parser.add_argument("--out", default=os.path.join(ROOT, "bench", "out"))
    parser.add_argument("--build", default=os.path.join(ROOT,
                                                        "build-bench"))
    parser.add_argument("--no-write", action="store_true",
                        help="print the table, leave docs/ alone")
    args = parser.parse_args()

    certscan = os.path.join(args.build, "scanner", "certscan")
    gen = os.path.join(args.build, "datasets", "certscan-gen")
    sizes = [int(s) for s in args.sizes.split(",")]
    kinds = args.kinds.split(",")
    os.makedirs(args.out, exist_ok=True)
    results = {"date": datetime.datetime.now(datetime.timezone.utc)
               .strftime("%Y-%m-%dT%H:%M:%SZ"), "machine": machine(),
               "command": " ".join(["bench/run.sh"] + sys.argv[1:]),
               "threads": args.threads, "fleets": {}}

    # Fleets first, so that generating them never overlaps a timing.
    fleets = {}
    for kind in kinds:
        for i, size in enumerate(sizes):
            big = i == len(sizes) - 1 and len(sizes) > 1 and \
                size % sizes[-2] == 0 and size > 100000
            if big and kind not in args.large_kinds.split(","):
                continue
            if big:
                fleets[(kind, size)] = replicate(args.out, kind, sizes[-2],
                                                 size // sizes[-2])
            else:
                fleets[(kind, size)] = generate(gen, args.out, kind, size,
                                                args.threads)

    log("measuring the ceiling (openssl speed)")
    results["ceiling"] = {"1": ceiling(1, args.seconds),
                          str(args.threads): ceiling(args.threads,
                                                     args.seconds)}

    for kind in kinds:
        entry = {"sizes": {}}
        mid = sizes[-2] if len(sizes) > 1 else sizes[0]
        flat, mix = extract(args.out, fleet_dir(args.out, kind, mid))
        entry["mix"] = mix
        for t in ("1", str(args.threads)):
            rates = results["ceiling"][t]
            entry.setdefault("ceiling", {})[t] = weighted_ceiling(
                rates, {a: n for a, n in mix.items() if a in rates})
        for size in sizes:
            if (kind, size) not in fleets:
                continue
            runs = []
            counts = range(1, args.threads + 1) if size == mid \
                else [args.threads]
            for t in counts:
                log("scanning %s %d devices, %d thread(s)" % (kind, size, t))
                runs.append(median_scan(certscan, fleets[(kind, size)], t,
                                        args.out, args.repeat))
            entry["sizes"][str(size)] = runs
        log("profiling %s at %d threads" % (kind, args.threads))
        entry["profile"] = profile(certscan, fleet_dir(args.out, kind, mid),
                                   args.threads, args.out)
        log("running the peers on %s" % kind)
        entry["peers"] = peers(fleet_dir(args.out, kind, mid), flat,
                               args.threads)
        entry["peer_size"] = mid
        results["fleets"][kind] = entry

    table = render(results, sizes)
    print(table)
    if not args.no_write:
        os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
        with open(os.path.join(ROOT, "bench", "results", "latest.json"),
                  "w") as f:
            json.dump(results, f, indent=1)
        write_doc(table)


def ratio(a, b):
    return a / b if b else 0.0


def render(results, sizes):
    n = str(results["threads"])
    lines = []
    m = results["machine"]
    lines.append("Measured %s on %s (%d cores), %s, with `%s`." %
                 (results["date"], m["cpu"], m["cores"], m["openssl"],
                  results["command"]))
    lines.append("")
    lines.append("### Ceiling: `openssl speed` verifies per second")
    lines.append("")
    lines.append("| algorithm | 1 thread | %s threads |" % n)
    lines.append("| --- | ---: | ---: |")
    for alg in SPEED_ALGS:
        lines.append("| %s | %.0f | %.0f |" % (
            alg, results["ceiling"]["1"].get(alg, 0),
            results["ceiling"][n].get(alg, 0)))
    for kind, entry in results["fleets"].items():
        lines.append("")
        lines.append("### %s fleet" % kind)
        lines.append("")
        lines.append("Signature mix: %s. Ceiling for this mix: %.0f/s at "
                     "1 thread, %.0f/s at %s." % (
                         ", ".join("%s %d" % kv for kv in
                                   sorted(entry["mix"].items())),
                         entry["ceiling"]["1"], entry["ceiling"][n], n))
        lines.append("")
        lines.append("| devices | threads | certs/s | signatures/s | "
                     "devices/s | MB/s | of ceiling | reading | peak RSS |")
        lines.append("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | "
                     "---: | ---: |")
        for size, runs in entry["sizes"].items():
            for r in runs:
                c = entry["ceiling"][str(r["threads"])]
                lines.append("| %s | %d | %.0f | %.0f | %.0f | %.1f | "
                             "%.2f | %.1f%% | %.0f MiB |" % (
                                 size, r["threads"],
                                 r["certificates_per_second"],
                                 r["signatures_per_second"],
                                 r["devices_per_second"],
                                 r["megabytes_per_second"],
                                 ratio(r["signatures_per_second"], c),
                                 100 * r["read_share"],
                                 r["peak_rss_bytes"] / 2**20))
        mid = str(entry["peer_size"])
        runs = entry["sizes"][mid]
        one, top = runs[0], runs[-1]
        lines.append("")
        lines.append("Scaling at %s devices: %s threads give %.2fx one "
                     "thread." % (mid, n, ratio(
                         top["signatures_per_second"],
                         one["signatures_per_second"])))
        per_size = [rs[-1]["certificates_per_second"]
                    for rs in entry["sizes"].values()]
        lines.append("Certificates/s across sizes at %s threads: spread "
                     "%.1f%% (largest/smallest - 1)." % (
                         n, 100 * (max(per_size) / min(per_size) - 1)))
        sizes_here = list(entry["sizes"].keys())
        if len(sizes_here) >= 3:
            rss = [entry["sizes"][s][-1]["peak_rss_bytes"]
                   for s in sizes_here]
            lines.append("Peak RSS, %s devices over %s devices: %.2fx." % (
                sizes_here[-1], sizes_here[-2], ratio(rss[-1], rss[-2])))
        if entry.get("profile"):
            lines.append("")
            lines.append("Where the CPU time goes (perf samples, %s "
                         "devices, %s threads):" % (mid, n))
            lines.append("")
            lines.append("| stage | share |")
            lines.append("| --- | ---: |")
            for stage, share in sorted(entry["profile"].items(),
                                       key=lambda kv: -kv[1]):
                lines.append("| %s | %.1f%% |" % (stage, share))
        lines.append("")
        lines.append("| peer (%s devices, %s workers) | certs/s | "
                     "certscan is |" % (mid, n))
        lines.append("| --- | ---: | ---: |")
        for peer in entry["peers"]:
            lines.append("| %s | %.0f | %.2fx faster |" % (
                peer["peer"], peer["certificates_per_second"],
                ratio(top["certificates_per_second"],
                      peer["certificates_per_second"])))
    return "\n".join(lines)


def write_doc(table):
    path = os.path.join(ROOT, "docs", "BENCHMARKS.md")
    with open(path) as f:
        text = f.read()
    start = text.index(MARK_BEGIN) + len(MARK_BEGIN)
    end = text.index(MARK_END)
    with open(path, "w") as f:
        f.write(text[:start] + "\n" + table + "\n" + text[end:])


if __name__ == "__main__":
    main()
