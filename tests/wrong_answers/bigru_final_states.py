"""Typical wrong answers to bigru_final_states: hint id -> the student's code (run after the solution)."""

WRONG_ANSWERS = {
    "directions_swapped": """
def bigru_final_states(out, hidden_size):
    return out[:, 0, hidden_size:], out[:, -1, :hidden_size]
""",
    "halves_swapped": """
def bigru_final_states(out, hidden_size):
    forward_last = out[:, -1, hidden_size:]
    backward_last = out[:, 0, :hidden_size]
    return forward_last, backward_last
""",
    # Both directions read at the last time step, as a unidirectional RNN would be.
    "backward_read_at_last_step": """
def bigru_final_states(out, hidden_size):
    last = out[:, -1]
    return last[:, :hidden_size], last[:, hidden_size:]
""",
    "forward_read_at_first_step": """
def bigru_final_states(out, hidden_size):
    first = out[:, 0]
    return first[:, :hidden_size], first[:, hidden_size:]
""",
    "final_steps_swapped": """
def bigru_final_states(out, hidden_size):
    return out[:, 0, :hidden_size], out[:, -1, hidden_size:]
""",
    "returned_stacked_tensor": """
def bigru_final_states(out, hidden_size):
    return torch.stack([out[:, -1, :hidden_size], out[:, 0, hidden_size:]])
""",
    "returned_concatenated_tensor": """
def bigru_final_states(out, hidden_size):
    return torch.cat([out[:, -1, :hidden_size], out[:, 0, hidden_size:]], dim=1)
""",
}
