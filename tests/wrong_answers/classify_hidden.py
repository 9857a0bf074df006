"""Typical wrong answers to classify_hidden: hint id -> the student's code (run after the solution)."""

WRONG_ANSWERS = {
    # The lab's own cell: softmax over the batch axis.
    "softmax_over_batch": """
def classify_hidden(z, fc):
    if z.dim() == 3:
        z = z.squeeze(0)
    return torch.softmax(fc(z), dim=0)
""",
    "no_softmax": """
def classify_hidden(z, fc):
    return fc(z[0] if z.dim() == 3 else z)
""",
    "kept_layer_axis": """
def classify_hidden(z, fc):
    return F.softmax(fc(z), dim=-1)
""",
}
