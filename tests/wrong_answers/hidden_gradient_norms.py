"""Typical wrong answers to hidden_gradient_norms: hint id -> the student's code (run after the solution)."""

WRONG_ANSWERS = {
    # Back-propagation goes from h_T backwards, and the norms were collected in that order.
    "norms_reversed": """
def hidden_gradient_norms(rnn_cell, x_in):
    hidden = torch.zeros(x_in.shape[0], rnn_cell.hidden_size)
    states = []
    for step in range(x_in.shape[1]):
        hidden = rnn_cell(x_in[:, step], hidden)
        states.append(hidden)
    grads = torch.autograd.grad(states[-1].sum(), states)
    norms = []
    for g in reversed(grads):
        norms.append(g.norm())
    return torch.stack(norms).detach()
""",
    "includes_h0": """
def hidden_gradient_norms(rnn_cell, x_in):
    hidden = torch.zeros(x_in.shape[0], rnn_cell.hidden_size, requires_grad=True)
    states = [hidden]
    for step in range(x_in.shape[1]):
        hidden = rnn_cell(x_in[:, step], hidden)
        states.append(hidden)
    grads = torch.autograd.grad(states[-1].sum(), states)
    return torch.stack([g.norm() for g in grads]).detach()
""",
    "norms_per_sequence": """
def hidden_gradient_norms(rnn_cell, x_in):
    hidden = torch.zeros(x_in.shape[0], rnn_cell.hidden_size)
    states = []
    for step in range(x_in.shape[1]):
        hidden = rnn_cell(x_in[:, step], hidden)
        states.append(hidden)
    grads = torch.autograd.grad(states[-1].sum(), states)
    return torch.stack([g.norm(dim=1) for g in grads]).detach()
""",
    "norm_of_states": """
def hidden_gradient_norms(rnn_cell, x_in):
    hidden = torch.zeros(x_in.shape[0], rnn_cell.hidden_size)
    norms = []
    for step in range(x_in.shape[1]):
        hidden = rnn_cell(x_in[:, step], hidden)
        norms.append(hidden.norm())
    return torch.stack(norms).detach()
""",
    "gradient_wrt_inputs": """
def hidden_gradient_norms(rnn_cell, x_in):
    x = x_in.clone().requires_grad_(True)
    hidden = torch.zeros(x.shape[0], rnn_cell.hidden_size)
    for step in range(x.shape[1]):
        hidden = rnn_cell(x[:, step], hidden)
    (grad,) = torch.autograd.grad(hidden.sum(), x)
    return torch.stack([grad[:, t].norm() for t in range(x.shape[1])])
""",
    "loss_mean_not_sum": """
def hidden_gradient_norms(rnn_cell, x_in):
    hidden = torch.zeros(x_in.shape[0], rnn_cell.hidden_size)
    states = []
    for step in range(x_in.shape[1]):
        hidden = rnn_cell(x_in[:, step], hidden)
        states.append(hidden)
    grads = torch.autograd.grad(states[-1].mean(), states)
    return torch.stack([g.norm() for g in grads]).detach()
""",
    # The states are detached when stored: autograd cannot reach them.
    "autograd_graph_broken": """
def hidden_gradient_norms(rnn_cell, x_in):
    hidden = torch.zeros(x_in.shape[0], rnn_cell.hidden_size)
    states = []
    for step in range(x_in.shape[1]):
        hidden = rnn_cell(x_in[:, step], hidden)
        states.append(hidden.detach())
    grads = torch.autograd.grad(states[-1].sum(), states)
    return torch.stack([g.norm() for g in grads])
""",
    # Transposed in place to loop over time: the caller's x_in is now (T, N, E).
    "gradient_norms_modified_input": """
def hidden_gradient_norms(rnn_cell, x_in):
    x_in.transpose_(0, 1)
    hidden = torch.zeros(x_in.shape[1], rnn_cell.hidden_size)
    states = []
    for x_t in x_in:
        hidden = rnn_cell(x_t, hidden)
        states.append(hidden)
    grads = torch.autograd.grad(states[-1].sum(), states)
    return torch.stack([g.norm() for g in grads]).detach()
""",
    # Right norms, but backward() also accumulates into the cell's weights' .grad.
    "filled_cell_grads": """
def hidden_gradient_norms(rnn_cell, x_in):
    hidden = torch.zeros(x_in.shape[0], rnn_cell.hidden_size)
    states = []
    for step in range(x_in.shape[1]):
        hidden = rnn_cell(x_in[:, step], hidden)
        hidden.retain_grad()
        states.append(hidden)
    states[-1].sum().backward()
    return torch.stack([h.grad.norm() for h in states])
""",
}
