"""The lock-free pieces of the real-time engine: ring, mailbox and the clock-paced null output."""

import threading

import numpy as np

from fanremix.audio.realtime import Mailbox, NullOutput, SpscRing


def test_ring_wraps_around_and_keeps_order() -> None:
    ring = SpscRing(capacity_frames=8)
    out = np.empty((3, 2), dtype=np.float32)
    counter = 0
    for _ in range(10):
        block = np.arange(counter, counter + 3, dtype=np.float32)[:, None].repeat(2, axis=1)
        counter += 3
        ring.write(block)
        assert ring.read_into(out) == 3
        np.testing.assert_array_equal(out, block)
    assert ring.fill() == 0 and ring.written == ring.read == 30


def test_ring_zero_fills_on_underrun_and_reports_what_it_copied() -> None:
    ring = SpscRing(capacity_frames=16)
    ring.write(np.ones((5, 2), dtype=np.float32))
    out = np.full((8, 2), 7.0, dtype=np.float32)
    assert ring.read_into(out) == 5
    assert (out[:5] == 1).all() and (out[5:] == 0).all()
    assert ring.read_into(out) == 0 and (out == 0).all()


def test_ring_free_space_accounts_for_unread_frames() -> None:
    ring = SpscRing(capacity_frames=16)
    ring.write(np.zeros((10, 2), dtype=np.float32))
    assert ring.free() == 6
    ring.read_into(np.empty((4, 2), dtype=np.float32))
    assert ring.free() == 10


def test_ring_survives_a_concurrent_producer_and_consumer() -> None:
    ring = SpscRing(capacity_frames=64)
    total = 20000
    received: list[float] = []

    def produce() -> None:
        value = 0
        while value < total:
            if ring.free() >= 7:
                ring.write(np.arange(value, value + 7, dtype=np.float32)[:, None].repeat(2, axis=1))
                value += 7

    producer = threading.Thread(target=produce)
    producer.start()
    out = np.empty((5, 2), dtype=np.float32)
    while len(received) < total:
        copied = ring.read_into(out)
        received.extend(out[:copied, 0].tolist())
    producer.join()
    assert received[:total] == list(range(total))


def test_mailbox_keeps_only_the_latest_value() -> None:
    box = Mailbox()
    assert box.take() is None
    for value in range(5):
        box.post(value)
    assert box.take() == 4
    assert box.take() is None


def test_null_output_is_paced_by_the_clock() -> None:
    calls = []
    done = threading.Event()

    def callback(outdata, frames, time_info, status) -> None:
        calls.append(frames)
        if len(calls) == 20:
            done.set()

    output = NullOutput(44100, 441, callback)  # 10 ms blocks
    import time

    started = time.monotonic()
    output.start()
    assert done.wait(5)
    elapsed = time.monotonic() - started
    output.stop()
    assert 0.15 < elapsed < 1.0  # 20 blocks of 10 ms: paced, not free-running
