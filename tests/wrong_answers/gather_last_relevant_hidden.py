"""Typical wrong answers to gather_last_relevant_hidden: hint id -> the student's code (run after the solution)."""

_CHECKS = """
    lengths = torch.as_tensor(x_lengths).long()
    if lengths.numel() != hiddens.shape[0]:
        raise ValueError("une longueur par séquence")
    if lengths.min() < 1 or lengths.max() > hiddens.shape[1]:
        raise ValueError("longueur hors de [1, T]")
"""

WRONG_ANSWERS = {
    "gather_off_by_one": f"""
def gather_last_relevant_hidden(hiddens, x_lengths):
{_CHECKS}
    return hiddens[torch.arange(hiddens.shape[0]), lengths]
""",
    "gather_reads_padding": f"""
def gather_last_relevant_hidden(hiddens, x_lengths):
{_CHECKS}
    return hiddens[:, -1]
""",
    # torch.gather keeps the gathered axis.
    "gather_kept_time_axis": f"""
def gather_last_relevant_hidden(hiddens, x_lengths):
{_CHECKS}
    index = (lengths - 1).view(-1, 1, 1).expand(-1, 1, hiddens.shape[2])
    return hiddens.gather(1, index)
""",
    "gather_all_rows": f"""
def gather_last_relevant_hidden(hiddens, x_lengths):
{_CHECKS}
    return hiddens[:, lengths - 1]
""",
    # Works when the lengths come as a tensor, not as a list.
    "gather_lengths_as_list": """
def gather_last_relevant_hidden(hiddens, x_lengths):
    if len(x_lengths) != hiddens.shape[0]:
        raise ValueError("une longueur par séquence")
    if x_lengths.min() < 1 or x_lengths.max() > hiddens.shape[1]:
        raise ValueError("longueur hors de [1, T]")
    return hiddens[torch.arange(hiddens.shape[0]), x_lengths - 1]
""",
    # No range check: 0 and negative lengths silently read from the end, T + 1 raises IndexError.
    "length_out_of_range_accepted": """
def gather_last_relevant_hidden(hiddens, x_lengths):
    lengths = torch.as_tensor(x_lengths).long()
    if lengths.numel() != hiddens.shape[0]:
        raise ValueError("une longueur par séquence")
    return hiddens[torch.arange(hiddens.shape[0]), lengths - 1]
""",
    # A loop over the batch: extra lengths are never read, missing ones raise IndexError.
    "wrong_number_of_lengths_accepted": """
def gather_last_relevant_hidden(hiddens, x_lengths):
    rows = []
    for b in range(hiddens.shape[0]):
        length = int(x_lengths[b])
        if length < 1 or length > hiddens.shape[1]:
            raise ValueError("longueur hors de [1, T]")
        rows.append(hiddens[b, length - 1])
    return torch.stack(rows)
""",
}
