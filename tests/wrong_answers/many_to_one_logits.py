"""Typical wrong answers to many_to_one_logits: hint id -> the student's code (run after the solution)."""

WRONG_ANSWERS = {
    # The lab's first classifier: h_n, which has read the padding of the shorter sequences.
    "many_to_one_reads_padding": """
def many_to_one_logits(rnn, fc, x_in, x_lengths):
    out, h_n = rnn(x_in)
    return fc(h_n[-1])
""",
    "many_to_one_off_by_one": """
def many_to_one_logits(rnn, fc, x_in, x_lengths):
    out, _ = rnn(x_in)
    lengths = torch.as_tensor(x_lengths)
    return fc(out[torch.arange(out.shape[0]), lengths])
""",
    # Packing is right, but h_n[0] is the first layer's state.
    "many_to_one_first_layer": """
def many_to_one_logits(rnn, fc, x_in, x_lengths):
    packed = pack_padded_sequence(x_in, torch.as_tensor(x_lengths), batch_first=True, enforce_sorted=False)
    _, h_n = rnn(packed)
    return fc(h_n[0])
""",
    "many_to_one_missing_fc": """
def many_to_one_logits(rnn, fc, x_in, x_lengths):
    out, _ = rnn(x_in)
    lengths = torch.as_tensor(x_lengths)
    return out[torch.arange(out.shape[0]), lengths - 1]
""",
    "many_to_one_probabilities": """
def many_to_one_logits(rnn, fc, x_in, x_lengths):
    out, _ = rnn(x_in)
    lengths = torch.as_tensor(x_lengths)
    return F.softmax(fc(out[torch.arange(out.shape[0]), lengths - 1]), dim=-1)
""",
    # Works when the lengths come as a tensor, not as a list.
    "many_to_one_lengths_as_list": """
def many_to_one_logits(rnn, fc, x_in, x_lengths):
    out, _ = rnn(x_in)
    return fc(out[torch.arange(out.shape[0]), x_lengths - 1])
""",
    "many_to_one_enforce_sorted": """
def many_to_one_logits(rnn, fc, x_in, x_lengths):
    packed = pack_padded_sequence(x_in, torch.as_tensor(x_lengths), batch_first=True)
    _, h_n = rnn(packed)
    return fc(h_n[-1])
""",
}
