"""Typical wrong answers to packed_last_hidden: hint id -> the student's code (run after the solution)."""

WRONG_ANSWERS = {
    # pack_padded_sequence's default: the lengths must come sorted.
    "enforce_sorted_true": """
def packed_last_hidden(rnn, x_in, x_lengths):
    packed = pack_padded_sequence(x_in, torch.as_tensor(x_lengths), batch_first=True)
    _, final = rnn(packed)
    if isinstance(final, tuple):
        final = final[0]
    return final[-1]
""",
    # Sorts the batch by hand to satisfy enforce_sorted=True, and forgets to put it back in order.
    "returned_in_sorted_order": """
def packed_last_hidden(rnn, x_in, x_lengths):
    lengths = torch.as_tensor(x_lengths)
    sorted_lengths, order = torch.sort(lengths, descending=True)
    packed = pack_padded_sequence(x_in[order], sorted_lengths, batch_first=True)
    _, final = rnn(packed)
    if isinstance(final, tuple):
        final = final[0]
    return final[-1]
""",
    # For an LSTM, the second element of (out, (h_n, c_n)) indexed with -1 is c_n.
    "returned_c_n": """
def packed_last_hidden(rnn, x_in, x_lengths):
    packed = pack_padded_sequence(x_in, torch.as_tensor(x_lengths), batch_first=True, enforce_sorted=False)
    _, final = rnn(packed)
    return final[-1]
""",
    "returned_whole_h_n": """
def packed_last_hidden(rnn, x_in, x_lengths):
    packed = pack_padded_sequence(x_in, torch.as_tensor(x_lengths), batch_first=True, enforce_sorted=False)
    _, final = rnn(packed)
    if isinstance(final, tuple):
        final = final[0]
    return final
""",
    "returned_first_layer": """
def packed_last_hidden(rnn, x_in, x_lengths):
    packed = pack_padded_sequence(x_in, torch.as_tensor(x_lengths), batch_first=True, enforce_sorted=False)
    _, final = rnn(packed)
    if isinstance(final, tuple):
        final = final[0]
    return final[0]
""",
    "read_padded_last_step": """
def packed_last_hidden(rnn, x_in, x_lengths):
    packed = pack_padded_sequence(x_in, torch.as_tensor(x_lengths), batch_first=True, enforce_sorted=False)
    out_packed, _ = rnn(packed)
    out, _ = pad_packed_sequence(out_packed, batch_first=True)
    return out[:, -1]
""",
}
