"""Predict latency and throughput of a real `yolohost serve` against in-process ultralytics.

    .venv/bin/python bench/predict.py [--n 50] [--clients 4] [--imgsz 640]

A nano detect model (yolo11n built from its yaml: same architecture and cost as the released
weights) predicts on bus.jpg. Prints the median and p95 of one client calling the Platform
predict route, the throughput of several concurrent clients, and each beside the in-process
`model.predict` baseline as a ratio. Figures, not pass/fail.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def build_model(path: Path) -> None:
    from ultralytics import YOLO

    YOLO("yolo11n.yaml").save(str(path))


def baseline(weights: Path, image: Path, n: int, imgsz: int) -> list[float]:
    from ultralytics import YOLO

    model = YOLO(str(weights))
    for _ in range(3):
        model.predict(str(image), imgsz=imgsz, verbose=False)
    times = []
    for _ in range(n):
        t = time.perf_counter()
        model.predict(str(image), imgsz=imgsz, verbose=False)
        times.append(time.perf_counter() - t)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=50, help="requests per measurement")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients for throughput")
    parser.add_argument("--imgsz", type=int, default=640)
    args = parser.parse_args()

    from tests.conftest import free_port, owner_key_from, start_server

    import ultralytics

    image = Path(ultralytics.__file__).parent / "assets" / "bus.jpg"
    work = Path(tempfile.mkdtemp(prefix="yolohost-bench-"))
    os.environ.setdefault("YOLO_CONFIG_DIR", str(work / "cfg"))
    weights = work / "yolo11n.pt"
    build_model(weights)

    base = baseline(weights, image, args.n, args.imgsz)
    base_med = statistics.median(base)

    data = work / "data"
    env = {"YOLOHOST_RATE_LIMITS_ENABLED": "false"}
    server = start_server(data, env=env)
    try:
        key = owner_key_from(server.text())
        subprocess.run([sys.executable, "-m", "yolohost", "models", "add", str(weights), "--project", "bench", "--name", "n"],
                       env={**os.environ, "YOLOHOST_DATA_DIR": str(data)}, check=True, capture_output=True)
        url = f"{server.url}/api/models/admin/bench/n/predict"
        payload = image.read_bytes()

        def call(session: requests.Session) -> float:
            t = time.perf_counter()
            r = session.post(url, headers={"Authorization": f"Bearer {key}"}, files={"file": ("bus.jpg", payload)},
                             data={"imgsz": args.imgsz})
            r.raise_for_status()
            return time.perf_counter() - t

        single = requests.Session()
        for _ in range(3):
            call(single)
        lat = [call(single) for _ in range(args.n)]

        sessions = [requests.Session() for _ in range(args.clients)]
        for s in sessions:
            call(s)
        t0 = time.perf_counter()
        with ThreadPoolExecutor(args.clients) as pool:
            list(pool.map(lambda i: call(sessions[i % args.clients]), range(args.n)))
        wall = time.perf_counter() - t0
    finally:
        server.stop()

    med, p95 = statistics.median(lat), pct(lat, 0.95)
    base_tput = 1 / base_med
    tput = args.n / wall
    print(f"yolo11n detect, bus.jpg, imgsz {args.imgsz}, n={args.n}, {os.cpu_count()} CPUs")
    print(f"in-process model.predict   median {base_med * 1000:7.1f} ms   p95 {pct(base, 0.95) * 1000:7.1f} ms")
    print(f"server, 1 client           median {med * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms   "
          f"ratio {med / base_med:.2f}x (p95 {p95 / pct(base, 0.95):.2f}x)")
    print(f"server, {args.clients} clients          {tput:7.2f} req/s   in-process {base_tput:.2f} req/s   "
          f"ratio {tput / base_tput:.2f}x")


if __name__ == "__main__":
    main()
