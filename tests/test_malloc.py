"""retain_freed_memory: tensors freed and asked again are the same memory, not fresh pages every time."""

import subprocess
import sys

# What a lane does for every student in test_large_batch: gather from 100 000 sequences, compare the
# result in float64 (about 20 temporary tensors of 0.8 to 6.4 MB). Prints the page faults of 10 rounds.
_ROUNDS = """
import resource, sys
from autograder.malloc import retain_freed_memory
if sys.argv[1] == "retain":
    assert retain_freed_memory()
import torch
torch.set_num_threads(1)
hiddens, lengths = torch.randn(100_000, 4, 2), torch.randint(1, 5, (100_000,))
def one_round():
    got = hiddens[torch.arange(100_000), lengths - 1]
    expected = hiddens.gather(1, (lengths - 1).view(-1, 1, 1).expand(-1, 1, 2)).squeeze(1)
    assert torch.allclose(got.double(), expected.double())
one_round()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    one_round()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(mode: str) -> int:
    done = subprocess.run([sys.executable, "-c", _ROUNDS, mode], capture_output=True, text=True, timeout=60, check=True)
    return int(done.stdout)


def test_tensors_freed_are_reused_without_page_faults():
    plain, retained = _faults("plain"), _faults("retain")
    # glibc's default: many of the temporaries are fresh pages each round (18 600 faults measured)
    assert plain > 8000
    assert retained < plain / 4  # 1 800 measured: the same memory round after round
