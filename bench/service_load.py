"""Load on the rights service: concurrent checks, grants and submissions from a second process, over loopback.

    .venv/bin/python bench/service_load.py [--seconds 20] [--clients 16] [--fans 8] [--db sqlite|postgres|both]

For each database the script starts the real service (`python -m fanremix.service`; PostgreSQL only where `initdb`
and the `psycopg` driver are present: a throw-away cluster is made in a temp folder), registers a publisher, a pack
and some fans (each with a C2PA certificate, a grant and a signed export), then starts a load process that runs
`--clients` threads for `--seconds`, each sending a weighted mix of POST /v1/checks, POST /v1/grants and
POST /v1/submissions (one in ten submissions resends an earlier idempotency key, as the outbox does after a lost
answer). It prints throughput, p50/p99 latency and errors per operation, then counts every fan's submissions on the
server: each acknowledged key must exist exactly once (target: no errors, nothing lost, nothing duplicated).
Rate limits are raised out of the way: this measures the service, not its throttle.
"""

import argparse
import contextlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

MIX = {"check": 5, "grant": 3, "submit": 2}
REPLAY_SHARE = 0.1
RACE_ROUNDS = 3  # before the timed load: every client submits one same new key at the same moment
PASSWORD = "load test password 123"
UNLIMITED = ["--rate-per-minute", "1e9", "--rate-burst", "1000000", "--auth-rate-per-minute", "1e9"]
UNLIMITED += ["--auth-rate-burst", "1000000", "--log-level", "error"]


# -- the load process ------------------------------------------------------------------------------------------------


def run_load(job: dict, seconds: float, clients: int, seed: int) -> dict:
    import requests

    url = job["url"]
    deadline = time.monotonic() + seconds
    lock = threading.Lock()
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, list[str]] = defaultdict(list)
    acknowledged: dict[str, set[str]] = defaultdict(set)  # fan id -> idempotency keys the service answered
    replays = {"sent": 0, "replayed": 0}
    names = list(MIX)
    weights = [MIX[n] for n in names]

    barrier = threading.Barrier(clients)
    races: dict[str, list[int]] = defaultdict(list)

    def race(session, index: int, round_: int) -> None:
        """All clients submit the same new key for the same fan at once: one row must come of it."""
        fan = job["fans"][0]
        key = f"race-{seed}-{round_}"
        barrier.wait()
        with open(fan["file"], "rb") as handle:
            response = session.post(
                f"{url}/v1/submissions",
                files={"file": ("remix.wav", handle, "audio/wav")},
                headers={"Authorization": f"Bearer {fan['token']}", "Idempotency-Key": key},
                timeout=60,
            )
        with lock:
            races[key].append(response.status_code)
            if response.status_code in (200, 201):
                acknowledged[fan["id"]].add(key)
            else:
                errors["race"].append(f"{response.status_code} {response.text[:120]}")

    def client(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        session = requests.Session()
        for round_ in range(RACE_ROUNDS):
            race(session, index, round_)
        own_keys: list[tuple[dict, str]] = []
        count = 0
        while time.monotonic() < deadline:
            fan = rng.choice(job["fans"])
            headers = {"Authorization": f"Bearer {fan['token']}"}
            operation = rng.choices(names, weights)[0]
            started = time.perf_counter()
            replay = False
            try:
                if operation == "submit":
                    if own_keys and rng.random() < REPLAY_SHARE:
                        fan, key = rng.choice(own_keys)
                        headers = {"Authorization": f"Bearer {fan['token']}"}
                        replay = True
                    else:
                        count += 1
                        key = f"load-{seed}-{index}-{count}"
                    with open(fan["file"], "rb") as handle:
                        response = session.post(
                            f"{url}/v1/submissions",
                            files={"file": ("remix.wav", handle, "audio/wav")},
                            headers={**headers, "Idempotency-Key": key},
                            timeout=60,
                        )
                    ok = response.status_code in (200, 201) and response.json().get("status") == "accepted"
                    if ok:
                        with lock:
                            acknowledged[fan["id"]].add(key)
                            if replay:
                                replays["sent"] += 1
                                replays["replayed"] += response.headers.get("Idempotent-Replayed") == "true"
                        if not replay:
                            own_keys.append((fan, key))
                else:
                    body = {"pack_id": job["pack_id"], "recipe": fan["recipe"]}
                    response = session.post(f"{url}/v1/{operation}s", json=body, headers=headers, timeout=60)
                    ok = response.status_code == (200 if operation == "check" else 201)
                elapsed = time.perf_counter() - started
                with lock:
                    latencies[operation].append(elapsed)
                    if not ok:
                        errors[operation].append(f"{response.status_code} {response.text[:120]}")
            except requests.RequestException as exc:
                with lock:
                    errors[operation].append(f"{type(exc).__name__}: {exc}")

    began = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    wall = time.perf_counter() - began
    return {
        "wall_s": wall,
        "latencies": latencies,
        "errors": {k: [*v[:5], f"... {len(v)} in all"] if len(v) > 5 else v for k, v in errors.items()},
        "error_counts": {k: len(v) for k, v in errors.items()},
        "acknowledged": {fan: sorted(keys) for fan, keys in acknowledged.items()},
        "replays": replays,
        "races": {key: sorted(codes) for key, codes in races.items()},
    }


# -- set-up: service, accounts, pack, signed exports -------------------------------------------------------------------


@contextlib.contextmanager
def postgres_cluster(folder: Path) -> Iterator[str]:
    """A throw-away PostgreSQL cluster on a free loopback port; yields its SQLAlchemy URL."""
    from fanremix.local_service import free_port

    data = folder / "pgdata"
    data.mkdir(parents=True)
    as_postgres: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(folder, "postgres")
        shutil.chown(data, "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    subprocess.run([*as_postgres, "initdb", "-D", str(data), "-A", "trust", "-U", "rights"], check=True,
                   capture_output=True)  # fmt: skip
    subprocess.run(
        [*as_postgres, "pg_ctl", "-D", str(data), "-l", str(data / "log"), "-w", "-o",
         f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=on", "start"],
        check=True, capture_output=True,
    )  # fmt: skip
    try:
        subprocess.run(
            [*as_postgres, "createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "rights", "rights"],
            check=True,
            capture_output=True,
        )
        yield f"postgresql+psycopg://rights@127.0.0.1:{port}/rights"
    finally:
        subprocess.run([*as_postgres, "pg_ctl", "-D", str(data), "-m", "fast", "stop"], capture_output=True)


def postgres_available() -> str | None:
    """Why PostgreSQL cannot be used here, or None."""
    if not shutil.which("initdb") or not shutil.which("pg_ctl"):
        return "no PostgreSQL server binaries (initdb, pg_ctl) on PATH"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "the psycopg driver is not installed (.venv/bin/pip install -e '.[postgres]')"
    return None


def prepare(service_url: str, folder: Path, fans: int) -> dict:
    """A publisher with a registered pack, and `fans` fans each holding a grant and a signed export of it."""
    import numpy as np
    import soundfile
    from cryptography.hazmat.primitives.asymmetric import ec

    from fanremix.domain import policy_templates
    from fanremix.domain.recipe import Recipe
    from fanremix.provenance_flow import export_with_provenance
    from fanremix.rights.client import RightsClient
    from fanremix.rights.identity import FanIdentity, load_certificates, make_csr
    from fanremix.rights.keyring import Keyring
    from fanremix.rights.packfile import PackMetadata, StemSource, build_pack, open_pack
    from fanremix.rights.signing import PublisherKey, public_key_pem

    stems = folder / "stems"
    stems.mkdir(parents=True)
    t = np.arange(2 * 44100) / 44100
    for name, frequency in (("drums", 110.0), ("bass", 55.0), ("keys", 261.6)):
        tone = 0.2 * np.sin(2 * np.pi * frequency * t)
        soundfile.write(str(stems / f"{name}.wav"), np.stack([tone, tone], axis=1), 44100, subtype="PCM_16")
    key = PublisherKey.generate()
    suffix = str(int(time.time() * 1000))
    metadata = PackMetadata(id=f"load-{suffix}", title="Load", artists=("Bench",), bpm=120, key="A minor")
    sources = [StemSource(stems / f"{n}.wav", role=n) for n in ("drums", "bass", "keys")]
    pack_path = folder / "load.fanpack"
    manifest = build_pack(sources, metadata, policy_templates.demo(), key, pack_path)
    keyring = Keyring(folder / "keyring")
    keyring.trust(key.public_key, name="Bench label", source="bench")
    with RightsClient(service_url) as publisher:
        publisher.register(f"load-label-{suffix}", PASSWORD, role="publisher")
        publisher.register_pack(manifest, public_key_pem(key.public_key))
        publisher_token = publisher.token
    recipe = Recipe.for_stems(manifest.id, manifest.pack_hash(), [s.id for s in manifest.stems])
    job_fans = []
    with open_pack(pack_path, keyring) as opened:
        for index in range(fans):
            with RightsClient(service_url) as fan:
                account = fan.register(f"load-fan-{suffix}-{index}", PASSWORD)
                private = ec.generate_private_key(ec.SECP256R1())
                issued = fan.request_certificate(make_csr(private, account.name))
                identity = FanIdentity(key=private, chain=tuple(load_certificates(issued.chain_pem, "chain")))
                destination = folder / f"remix-{index}.wav"
                export_with_provenance(opened, recipe, destination, "wav16", identity, fan.grant(recipe))
                job_fans.append(
                    {"id": account.id, "token": fan.token, "file": str(destination), "recipe": recipe.to_dict()}
                )
    return {"url": service_url, "pack_id": manifest.id, "publisher": publisher_token, "fans": job_fans}


def count_submissions(url: str, token: str) -> list[str]:
    import requests

    ids: list[str] = []
    while True:
        response = requests.get(
            f"{url}/v1/submissions",
            params={"limit": 500, "offset": len(ids)},
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        )
        response.raise_for_status()
        page = [s["id"] for s in response.json()["submissions"]]
        ids += page
        if len(page) < 500:
            return ids


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def run_backend(name: str, database_url: str | None, folder: Path, args: argparse.Namespace) -> bool:
    from fanremix.local_service import LocalService

    extra = list(UNLIMITED)
    if database_url and args.workers > 1:
        extra += ["--workers", str(args.workers)]
    with LocalService.start(folder / "service", database_url=database_url, service_args=extra) as service:
        print(f"\n== {name}: service at {service.url}, {args.clients} client threads, {args.seconds:g} s", flush=True)
        job = prepare(service.url, folder / "setup", args.fans)
        job_path = folder / "job.json"
        job_path.write_text(json.dumps(job))
        load = subprocess.run(
            [sys.executable, __file__, "--worker", str(job_path), "--seconds", str(args.seconds),
             "--clients", str(args.clients), "--seed", str(args.seed)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if load.returncode != 0:
            print(load.stderr[-3000:])
            return False
        result = json.loads(load.stdout.splitlines()[-1])
        total = sum(len(v) for v in result["latencies"].values())
        print(f"{'operation':<10} {'count':>7} {'per s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>7}")
        for operation in MIX:
            values = result["latencies"].get(operation, [])
            if not values:
                continue
            print(
                f"{operation:<10} {len(values):>7} {len(values) / result['wall_s']:>8.1f} "
                f"{statistics.median(values) * 1000:>8.1f} {percentile(values, 0.99) * 1000:>8.1f} "
                f"{max(values) * 1000:>8.1f} {result['error_counts'].get(operation, 0):>7}"
            )
        errors = sum(result["error_counts"].values())
        print(f"{'all':<10} {total:>7} {total / result['wall_s']:>8.1f} {'':>8} {'':>8} {'':>8} {errors:>7}")
        for operation, samples in result["errors"].items():
            print(f"  {operation} errors: {samples}")
        lost = duplicated = 0
        for fan in job["fans"]:
            keys = set(result["acknowledged"].get(fan["id"], []))
            ids = count_submissions(service.url, fan["token"])
            duplicated += max(0, len(ids) - len(keys)) + (len(ids) - len(set(ids)))
            lost += max(0, len(keys) - len(ids))
        acknowledged = sum(len(v) for v in result["acknowledged"].values())
        replays = result["replays"]
        print(
            f"submissions: {acknowledged} keys acknowledged, {lost} lost, {duplicated} duplicated on the server; "
            f"{replays['sent']} resent keys, {replays['replayed']} answered as replays"
        )
        races = result["races"]
        single = all(codes.count(201) == 1 and codes.count(200) == len(codes) - 1 for codes in races.values())
        print(f"races: {len(races)} keys each sent by {args.clients} clients at once -> answers {list(races.values())}")
        return errors == 0 and lost == 0 and duplicated == 0 and replays["sent"] == replays["replayed"] and single


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--fans", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="service worker processes on PostgreSQL")
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        job = json.loads(Path(args.worker).read_text())
        print(json.dumps(run_load(job, args.seconds, args.clients, args.seed)))
        return 0
    passed = True
    with tempfile.TemporaryDirectory(prefix="fanremix-load-") as temp:
        root = Path(temp)
        os.chmod(root, 0o755)
        for name in ("sqlite", "postgres") if args.db == "both" else (args.db,):
            os.environ["FANREMIX_DATA_DIR"] = str(root / name / "user-data")
            os.environ["FANREMIX_CONFIG_DIR"] = str(root / name / "user-config")
            if name == "sqlite":
                passed &= run_backend("SQLite", None, root / name, args)
                continue
            problem = postgres_available()
            if problem:
                print(f"\n== PostgreSQL: skipped ({problem})")
                continue
            (root / name).mkdir()
            with postgres_cluster(root / name / "pg") as url:
                passed &= run_backend(f"PostgreSQL ({args.workers} workers)", url, root / name, args)
    print("\nresult:", "no errors, nothing lost or duplicated" if passed else "FAILED")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
