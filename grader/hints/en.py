"""English hints (gentlest first) and the explanations shown with each solution."""

HINTS: dict[str, tuple[str, ...]] = {
    "scalar_grad": (
        "Autograd only follows tensors that require grad, and the x you are given does not. Which tensor do you need autograd to watch, and where does PyTorch leave the derivative once it has computed it?",
        "Make a leaf that autograd tracks with x.detach().requires_grad_(True), call f on that leaf (not on x), and call backward() on the result.",
        "After y = f(leaf) and y.backward(), the derivative is in leaf.grad. Return it: it already has x's dtype and device, and a leaf's .grad does not require grad itself.",
    ),
    "vector_grad": (
        "backward() with no argument only works on a single number, but f(x) may hold many. How do you turn many outputs into one, so that each element of x still gets its own derivative?",
        "Add the outputs up: f(leaf).sum() is a scalar, and its gradient with respect to the leaf has one entry per element, in the shape of x.",
        "leaf = x.detach().requires_grad_(True); f(leaf).sum().backward(); return leaf.grad. Do not use .mean(): it divides every entry by the number of elements.",
    ),
    "partial_grads": (
        "Each input needs its own leaf that requires grad; one backward pass then gives every leaf its partial derivative. An input that f never uses has a derivative of zero everywhere, which is not the same as having no gradient.",
        "torch.autograd.grad(y, leaves, allow_unused=True) returns one gradient per leaf, with None for a leaf that f did not use. y must be a scalar: take f(*leaves).sum().",
        "Turn every None into torch.zeros_like(leaf) and return a tuple in the order of the inputs. Broadcasting needs no extra work: autograd sums each gradient back to its input's shape.",
    ),
    "evaluate_without_grad": (
        "Here you only want the value, with no graph behind it. PyTorch has a mode in which nothing is recorded: turn it on just around the call to f, and make sure the caller finds the mode as it was.",
        "torch.no_grad() works as a with block and as a decorator; both switch recording off and restore the previous mode on the way out. Leave x.requires_grad alone.",
        "Call f(x) inside `with torch.no_grad():` and return the result. torch.set_grad_enabled(False) on its own would leave recording off for the caller, and detaching afterwards is too late: the graph was already built.",
    ),
    "accumulated_grad": (
        "This time you want gradients to pile up, which is what backward does by default. Think about what you must not do between the calls, and what was already in x.grad before you started.",
        "x is already a leaf that requires grad: use it as it is, with no detach and no clearing. Loop `times` times, building f(x).sum() anew each round and calling backward() on it.",
        "for _ in range(times): f(x).sum().backward(), then return x.grad. Whatever gradient x held before the call stays in the total.",
    ),
    "fresh_grads": (
        "Each function needs a clean start: what the previous backward left behind must be gone before the next one. Keep in mind that x.grad is one tensor that PyTorch reuses from call to call.",
        "Before each backward(), clear the gradient: x.grad = None, or x.grad.zero_() when it is not None. After backward(), keep a copy of x.grad rather than x.grad itself.",
        "Loop over fs: clear x.grad, call f(x).sum().backward(), append x.grad.clone() to a list. Return the list.",
    ),
    "gradient_descent": (
        "Every step has four parts: forget the old gradients, compute the loss, run backward, and move each parameter a little against its own gradient. The move must change the very tensors you were given, and autograd must not record it.",
        "The loss is f(*params).mean(). Set p.grad = None for every parameter before backward(). Do the update inside torch.no_grad() with an in-place operation such as -=, so each parameter stays the same tensor object.",
        "Each step: clear every p.grad; f(*params).mean().backward(); then with torch.no_grad(): for p in params: if p.grad is not None: p -= lr * p.grad. Return params. Check that each parameter moves by its own gradient from its own value.",
    ),
    "detach_alias": (
        "You need a second handle on the same memory, one that autograd does not track. A copy will not do: a copy has memory of its own, so a write to one no longer shows in the other.",
        "A single tensor method does exactly this: it returns a tensor outside the graph that shares x's storage. clone() copies, and requires_grad_(False) would change x itself.",
        "Return x.detach(). x keeps requiring grad, and the result has no grad_fn.",
    ),
    # unit 2: exercises 9-12
    "shared_trunk_grads": (
        "Each head needs its own backward pass, and all of them go back through the same trunk. Think about what the first backward pass throws away, and how to ask PyTorch to keep it until the last head is done.",
        "Make a leaf from x that requires grad, run the trunk on it once, and keep the output z. For each head, take the gradient of head(z).sum() with retain_graph=True; torch.autograd.grad returns a fresh tensor each time, so nothing piles up in .grad.",
        "leaf = x.detach().requires_grad_(True); z = trunk(leaf); then for each head: (g,) = torch.autograd.grad(head(z).sum(), leaf, retain_graph=True) and append g. Return the list.",
    ),
    "hvp": (
        "A gradient is a function of x too, so it can be differentiated again, but only if autograd recorded how it was computed. What must you ask for when taking the first derivative, and how do you fold v into the second one?",
        "Take the first gradient with create_graph=True, so it carries a graph. Then differentiate the gradient again with v as the weights of its elements (grad_outputs): that is H·v, without building H.",
        "leaf = x.detach().requires_grad_(True); (g,) = torch.autograd.grad(f(leaf), leaf, create_graph=True); (hv,) = torch.autograd.grad(g, leaf, grad_outputs=v); return hv. Or: torch.func.jvp(torch.func.grad(f), (x,), (v,))[1].",
    ),
    "intermediate_grads": (
        "Autograd computes the gradient at y on its way back to x, but throws it away because y is not a leaf. There are a few ways to keep it; pick one that also leaves the caller's gradient on x exactly as it was.",
        "Call f and g once, then either ask torch.autograd.grad for the gradients of L with respect to y and x together (it does not touch .grad at all), or use y.retain_grad() and backward() after setting x.grad aside.",
        "y = f(x); L = g(y).sum(); dy, dx = torch.autograd.grad(L, (y, x)); return dy, dx. With backward() instead: saved = x.grad; x.grad = None; y.retain_grad(); L.backward(); keep y.grad and x.grad; then x.grad = saved.",
    ),
    "clipped_grad": (
        "The clamp has to happen in the middle of the backward pass, where the gradient arrives at y, not on the final result: f's Jacobian mixes and scales the gradient on its way to x. Which tool lets you change a gradient at one tensor while backward runs?",
        "Register a hook on y: it is called with the gradient arriving at y, and the tensor it returns flows on through f. Or work in two steps with torch.autograd.grad: first the gradient at y, then carry the clamped one back to x with grad_outputs.",
        "leaf = x.detach().requires_grad_(True); y = f(leaf); y.register_hook(lambda grad: grad.clamp(-c, c)); g(y).sum().backward(); return leaf.grad.",
    ),
    # unit 2: exercises 13-16
    "round_ste": (
        "You need two different behaviours from one result: the rounded value going forward, and an untouched gradient going back. Autograd lets you write the backward rule yourself, or build the result so that only one part of it is differentiated.",
        "Either subclass torch.autograd.Function (forward returns torch.round(x); backward returns the grad_output it receives, unchanged) and call it with .apply(x), or add to x the rounding step with its gradient removed: the step is a constant to autograd, so the gradient of the sum is the gradient of x.",
        "return x + (torch.round(x) - x).detach(). The value is torch.round(x); the gradient of the whole is that of x alone. The other order, torch.round(x) + (x - torch.round(x)).detach(), gives x back with a zero gradient.",
    ),
    "jacobian": (
        "A single backward pass gives one weighted sum of the rows of the Jacobian, where the weights are what you pass as the gradient of the output. Choose the weights so that the sum is a single row, once for each output, and keep the graph alive between the passes.",
        "Make a leaf from x, compute y = f(leaf) once, then for each i call torch.autograd.grad(y, leaf, grad_outputs=e_i, retain_graph=True), where e_i is zeros_like(y) with a 1 at position i. Stack the rows. torch.autograd.functional.jacobian(f, x) does the same in one call.",
        "leaf = x.detach().requires_grad_(True); y = f(leaf); rows = [], and for each i: pick = torch.zeros_like(y); pick[i] = 1.0; rows.append(torch.autograd.grad(y, leaf, pick, retain_graph=True)[0]). Return torch.stack(rows): shape (m, n). Wrap it in torch.enable_grad() if it may be called under no_grad.",
    ),
    "to_numpy": (
        "Two things stand between a tensor and NumPy: the graph it may belong to, and the memory it may live in. NumPy knows neither gradients nor GPUs, so both have to be dealt with before the conversion, in a way that works whatever the tensor is.",
        "detach() leaves the graph without touching t, cpu() brings the data to main memory (and does nothing on a tensor that is there already), and numpy() then shares that memory. The dtype is kept all the way, so float32 stays float32.",
        "return t.detach().cpu().numpy(). t.numpy() alone fails when t requires grad, and t.detach().numpy() fails on a GPU; t.tolist() gives lists, not an array.",
    ),
    "save_weights": (
        "Think about what is written for each tensor: its numbers, but also whether it requires grad, which device it lives on, and all the memory behind it. For each of these, make a tensor that carries only what a CPU-only machine needs to get the numbers back.",
        "For each parameter: detach() drops requires_grad, cpu() moves it to main memory, and clone() gives it a storage of its own, so a view into a large buffer no longer brings the whole buffer along (on the CPU, cpu() copies nothing, so it does not do this job). Save the list of these copies with torch.save.",
        "torch.save([p.detach().cpu().clone() for p in params], path). The params stay as they were, and torch.load(path, weights_only=True) gives back a list of plain CPU tensors.",
    ),
}

EXPLANATIONS: dict[str, str] = {
    "scalar_grad": "The input arrives without requires_grad, so the solution makes a new leaf from it. Calling f on that leaf records a graph; backward() walks it from the scalar result back to the leaf and stores the derivative in leaf.grad. The leaf shares x's dtype and device, so its gradient does too.",
    "vector_grad": "backward() needs one number to start from. Summing gives it one, and because d(sum)/d(x_i) adds up the derivatives of every output that depends on x_i, the gradient keeps x's shape with one entry per element.",
    "partial_grads": "torch.autograd.grad returns the gradients instead of storing them in .grad, one per leaf, in order. allow_unused=True lets it return None for an input that f ignores; the derivative of a function that does not depend on an input is zero, so None becomes zeros of that input's shape, dtype and device.",
    "evaluate_without_grad": "Inside a torch.no_grad() block no operation is recorded, so the result has no grad_fn and does not require grad, whatever x and the weights require. Leaving the block restores the mode that was active before, which is why the caller's grad mode is untouched.",
    "accumulated_grad": "backward() adds its result to .grad instead of replacing it. Calling it `times` times on the same leaf, without clearing anything, leaves the earlier gradient plus `times` times the new one in x.grad.",
    "fresh_grads": "Clearing x.grad before each backward() gives every function its own gradient. x.grad is a single tensor that zero_() empties in place, so each gradient is stored as a clone(): otherwise every entry of the list would be the same tensor and show only the last value.",
    "gradient_descent": "Each step clears the gradients (including any stale ones), computes the mean loss, runs backward() and then moves every parameter against its own gradient. The update runs under torch.no_grad(), so it is not recorded, and -= changes the tensors in place, so the caller's parameters stay leaves that require grad.",
    "detach_alias": "detach() returns a tensor that is cut off from the graph (no grad_fn, requires_grad False) but looks at x's memory: a write to either shows in both. It leaves x itself unchanged, still requiring grad.",
    # unit 2: exercises 9-12
    "shared_trunk_grads": "The trunk runs once and every head builds on its output. backward() normally frees the values the graph saved as soon as it has used them; retain_graph=True keeps them, so each head can go back through the trunk in turn. torch.autograd.grad returns each gradient as a new tensor instead of adding it to .grad, so the heads' gradients stay separate without any clearing or copying.",
    "hvp": "With create_graph=True the first torch.autograd.grad records how the gradient g was computed, so g can be differentiated again. Asking for the gradient of g with grad_outputs=v gives the gradient of (g * v).sum(), which is H·v because v does not depend on x. The Hessian itself is never built, so this costs about two backward passes whatever the size of x.",
    "intermediate_grads": "y is not a leaf, so backward() computes its gradient on the way to x but does not keep it; y.retain_grad() asks it to. backward() also adds to x.grad, so the solution sets the caller's gradient aside, lets backward() fill a fresh one, and puts the old one back. torch.autograd.grad(L, (y, x)) gets the same pair in one pass without touching any .grad.",
    "clipped_grad": "The hook on y runs during backward() with the gradient arriving at y; what it returns replaces that gradient, so the clamped values are what flows back through f to x. Clamping x's gradient afterwards would give a different answer, because f mixes and scales the gradient between y and x.",
    # unit 2: exercises 13-16
    "round_ste": "The custom Function defines both directions: forward computes torch.round(x), whose own derivative is zero almost everywhere, and backward ignores that and returns the incoming gradient unchanged, as the identity would. Autograd records the Function only when x requires grad and recording is on, so under no_grad nothing is kept. The detach trick gets the same numbers: in x + (torch.round(x) - x).detach() the detached step is a constant, so the value is the rounded one and the gradient is that of x.",
    "jacobian": "Backpropagating from y with grad_outputs v gives the vector-Jacobian product v^T J. With v = e_i that is row i of J, so m passes with one-hot vectors build the whole matrix. retain_graph=True keeps the graph for the next pass, torch.autograd.grad returns each row instead of adding it to .grad (so neither the leaf nor f's weights collect a .grad), and the rows come out detached.",
    "to_numpy": "detach() returns a tensor outside the graph that shares t's memory, so nothing is copied on the CPU and t keeps requiring grad. cpu() copies the data to main memory when it is elsewhere and returns the tensor itself when it is already there. numpy() then wraps that memory as an array with the same shape and dtype.",
    "save_weights": "torch.save writes, for every tensor, its storage (all of it, even for a view), the device that storage is on, and its requires_grad flag. detach() drops the flag, cpu() makes the storage a CPU one, and clone() makes a storage exactly the size of the tensor, which matters on the CPU, where cpu() returns the very same view. The list of these copies loads anywhere with weights_only=True, and the parameters themselves are never touched.",
}
