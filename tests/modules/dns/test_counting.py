"""Message tallies add up the same whether one process counts or several do and merge."""

from __future__ import annotations

import random

from mcpcap.modules.dns import counting
from mcpcap.modules.dns.counting import MessageCounts


def brief(qr: bool, name: str = "www.example.com", rcode: int = 0) -> tuple:
    question = (name, 1, 1, False) if qr else (name, 1, 1, False, name.lower(), "example.com")
    flags = (0x8000 if qr else 0) | rcode
    return (1, flags, rcode, 0, None, [question], [], 0, (), b"")


def messages(count: int, seed: int) -> list[tuple]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        qr = rng.random() < 0.5
        msg = brief(qr, f"h{rng.randrange(50)}.example.com", rng.choice((0, 0, 2, 3)) if qr else 0)
        ts = 1_700_000_000 + rng.random() * 200_000  # over two days
        out.append((msg, ts, "10.0.0.1", "10.0.0.53", "udp", "dns"))
    return out


def per_interval(counts: MessageCounts, interval: int) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for start, tally in counts.slots.items():
        assert start % counts.grain == 0
        bucket = out.setdefault(start // interval, [0, 0, 0])
        for i, n in enumerate(tally):
            bucket[i] += n
    return out


def test_merged_shares_equal_one_count():
    sample = messages(3000, seed=1)
    whole = MessageCounts()
    for args in sample:
        whole.add(*args)
    merged = MessageCounts()
    for first in range(0, len(sample), 700):  # workers' shares, handed over span by span
        share = MessageCounts()
        for args in sample[first : first + 700]:
            share.add(*args)
        merged.merge(share.state())
    assert merged.state() == whole.state()
    assert merged.summary() == whole.summary()
    assert sum(whole.qnames.values()) == sum(1 for m, *_ in sample if not m[1] & 0x8000)


def test_too_many_time_slots_become_coarser_without_losing_a_message(monkeypatch):
    sample = messages(3000, seed=2)
    fine = MessageCounts()
    for args in sample:
        fine.add(*args)
    assert fine.grain == 1
    monkeypatch.setattr(counting, "MAX_TIME_SLOTS", 100)
    coarse, merged = MessageCounts(), MessageCounts()
    for args in sample:
        coarse.add(*args)
    share = MessageCounts()
    for args in sample[:50]:
        share.add(*args)
    merged.merge(share.state())  # a fine share into ...
    merged.merge(coarse.state())  # ... a coarse one, and both are counted again below
    assert coarse.grain == 3600 and len(coarse.slots) <= 100
    for interval in (3600, 86400):  # every timeline step a coarse grain serves
        assert per_interval(coarse, interval) == per_interval(fine, interval)
    assert messages_in(merged) == messages_in(fine) + messages_in(share)


def messages_in(counts: MessageCounts) -> int:
    return sum(queries + responses for queries, responses, _ in counts.slots.values())
