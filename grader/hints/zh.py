"""中文提示（由浅入深）以及展示参考答案时附带的讲解。"""

HINTS: dict[str, tuple[str, ...]] = {
    "scalar_grad": (
        "autograd 只跟踪需要梯度的张量，而传进来的 x 并不需要梯度。想一想：要让 autograd 盯住哪个张量？算出导数之后，PyTorch 把它放在哪里？",
        "用 x.detach().requires_grad_(True) 做一个会被跟踪的叶子，对这个叶子（而不是 x）调用 f，再对结果调用 backward()。",
        "y = f(leaf)、y.backward() 之后，导数就在 leaf.grad 里。直接返回它：它的 dtype 和 device 已经与 x 相同，而且叶子的 .grad 本身不需要梯度。",
    ),
    "vector_grad": (
        "不带参数的 backward() 只能从一个数出发，而 f(x) 可能有很多个元素。怎样把很多输出变成一个数，同时让 x 的每个元素仍然得到各自的导数？",
        "把输出加起来：f(leaf).sum() 是标量，它对叶子的梯度每个元素一项，形状与 x 相同。",
        "leaf = x.detach().requires_grad_(True)；f(leaf).sum().backward()；返回 leaf.grad。不要用 .mean()：那样每一项都会被除以元素个数。",
    ),
    "partial_grads": (
        "每个输入都需要一个自己的、需要梯度的叶子；一次反向传播就能给每个叶子算出它的偏导数。f 没用到的输入，导数处处为零——这和“没有梯度”不是一回事。",
        "torch.autograd.grad(y, leaves, allow_unused=True) 为每个叶子返回一个梯度，f 没用到的叶子对应 None。y 必须是标量：取 f(*leaves).sum()。",
        "把每个 None 换成 torch.zeros_like(leaf)，按输入的顺序返回一个元组。广播不用额外处理：autograd 会把每个梯度求和还原成对应输入的形状。",
    ),
    "evaluate_without_grad": (
        "这里只要数值，不要背后的计算图。PyTorch 有一种什么都不记录的模式：只在调用 f 的时候打开它，并保证调用者拿回原来的模式。",
        "torch.no_grad() 既可以写成 with 语句块，也可以当装饰器用；两种写法都会关闭记录，并在离开时恢复原来的模式。不要去改 x.requires_grad。",
        "在 `with torch.no_grad():` 里调用 f(x) 并返回结果。单独调用 torch.set_grad_enabled(False) 会让调用者那边也一直关着记录；事后再 detach 也来不及了：计算图已经建好了。",
    ),
    "accumulated_grad": (
        "这一次就是要让梯度累加起来，而 backward 默认就是这么做的。想想两次调用之间不能做什么，以及开始之前 x.grad 里已经有什么。",
        "x 已经是需要梯度的叶子：直接用它，不要 detach，也不要清空。循环 times 次，每次重新算 f(x).sum() 并对它调用 backward()。",
        "for _ in range(times): f(x).sum().backward()，然后返回 x.grad。调用前 x 已有的梯度会留在总和里。",
    ),
    "fresh_grads": (
        "每个函数都要从干净的状态开始：上一次 backward 留下的东西，必须在下一次之前清掉。还要记住，x.grad 是 PyTorch 反复使用的同一个张量。",
        "每次 backward() 之前清空梯度：x.grad = None，或者在它不是 None 时调用 x.grad.zero_()。backward() 之后保存 x.grad 的副本，而不是 x.grad 本身。",
        "遍历 fs：清空 x.grad，调用 f(x).sum().backward()，把 x.grad.clone() 加进列表。最后返回这个列表。",
    ),
    "gradient_descent": (
        "每一步分四件事：忘掉旧梯度、计算损失、反向传播、让每个参数沿它自己梯度的反方向挪一小步。挪动必须作用在传进来的那些张量本身上，而且不能被 autograd 记录。",
        "损失是 f(*params).mean()。backward() 之前把每个参数的 p.grad 设为 None。在 torch.no_grad() 里用 -= 这样的原地操作更新，这样每个参数还是原来那个张量对象。",
        "每一步：清空所有 p.grad；f(*params).mean().backward()；然后 with torch.no_grad(): for p in params: if p.grad is not None: p -= lr * p.grad。最后返回 params。检查每个参数都是从自己的值出发、按自己的梯度移动。",
    ),
    "detach_alias": (
        "你需要同一块内存的另一个“把手”，而且 autograd 不跟踪它。复制是不行的：副本有自己的内存，改其中一个，另一个就看不到了。",
        "正好有一个张量方法做这件事：它返回一个脱离计算图、但与 x 共享存储的张量。clone() 会复制，requires_grad_(False) 则会改掉 x 本身。",
        "返回 x.detach()。x 仍然需要梯度，结果没有 grad_fn。",
    ),
    # unit 2: exercises 9-12
    "shared_trunk_grads": (
        "每个 head 都需要自己的一次反向传播，而它们都要经过同一个 trunk。想一想第一次反向传播会丢掉什么，以及怎样让 PyTorch 把它保留到最后一个 head 算完。",
        "从 x 做一个需要梯度的叶子，对它只运行一次 trunk，保留输出 z。对每个 head，用 retain_graph=True 求 head(z).sum() 的梯度；torch.autograd.grad 每次都返回一个新张量，所以 .grad 里不会累加。",
        "leaf = x.detach().requires_grad_(True); z = trunk(leaf); 然后对每个 head：(g,) = torch.autograd.grad(head(z).sum(), leaf, retain_graph=True)，把 g 加进列表。返回这个列表。",
    ),
    "hvp": (
        "梯度本身也是 x 的函数，所以可以再求导，前提是 autograd 记录了它是怎么算出来的。求一阶导数时你需要要求什么？又怎样把 v 放进第二次求导里？",
        "第一次求梯度时传入 create_graph=True，让梯度带上计算图。然后以 v 作为梯度各元素的权重（grad_outputs）对梯度再求一次导：这就是 H·v，不需要构造 H。",
        "leaf = x.detach().requires_grad_(True); (g,) = torch.autograd.grad(f(leaf), leaf, create_graph=True); (hv,) = torch.autograd.grad(g, leaf, grad_outputs=v); 返回 hv。也可以：torch.func.jvp(torch.func.grad(f), (x,), (v,))[1]。",
    ),
    "intermediate_grads": (
        "autograd 在反向传到 x 的途中会算出 y 处的梯度，但因为 y 不是叶子，算完就丢掉了。有几种办法能把它留下来；选一种同时能让调用者在 x 上的梯度保持原样的办法。",
        "f 和 g 各调用一次，然后要么让 torch.autograd.grad 一起求 L 对 y 和 x 的梯度（它完全不碰 .grad），要么先把 x.grad 存起来，再用 y.retain_grad() 和 backward()。",
        "y = f(x); L = g(y).sum(); dy, dx = torch.autograd.grad(L, (y, x)); 返回 dy, dx。若用 backward()：saved = x.grad; x.grad = None; y.retain_grad(); L.backward(); 取出 y.grad 和 x.grad；最后 x.grad = saved。",
    ),
    "clipped_grad": (
        "裁剪必须发生在反向传播的中途，也就是梯度到达 y 的地方，而不是对最终结果裁剪：f 的雅可比矩阵会在梯度传到 x 的路上把它混合、缩放。哪种工具能让你在反向传播进行时修改某个张量处的梯度？",
        "在 y 上注册一个钩子：它会收到到达 y 的梯度，它返回的张量会继续经过 f 传播。或者用 torch.autograd.grad 分两步：先求 y 处的梯度，再把裁剪后的梯度通过 grad_outputs 传回 x。",
        "leaf = x.detach().requires_grad_(True); y = f(leaf); y.register_hook(lambda grad: grad.clamp(-c, c)); g(y).sum().backward(); 返回 leaf.grad。",
    ),
    # unit 2: exercises 13-16
    "round_ste": (
        "同一个结果需要两种行为：前向时是取整后的值，反向时梯度原封不动。autograd 允许你自己写反向规则，也允许你把结果拼成只有一部分参与求导的样子。",
        "要么继承 torch.autograd.Function（forward 返回 torch.round(x)；backward 把收到的 grad_output 原样返回），用 .apply(x) 调用；要么在 x 上加上“去掉梯度的取整步长”：这个步长对 autograd 来说是常数，所以整体的梯度就是 x 的梯度。",
        "return x + (torch.round(x) - x).detach()。它的值是 torch.round(x)，整体的梯度只来自 x。反过来写 torch.round(x) + (x - torch.round(x)).detach()，得到的值是 x，梯度却为零。",
    ),
    "jacobian": (
        "一次反向传播只给出雅可比矩阵各行的一个加权和，权重就是你作为输出梯度传进去的东西。选好权重，让这个加权和恰好是某一行，每个输出做一次，并在两次之间保留计算图。",
        "用 x 做一个叶子，只计算一次 y = f(leaf)，然后对每个 i 调用 torch.autograd.grad(y, leaf, grad_outputs=e_i, retain_graph=True)，其中 e_i 是在第 i 个位置为 1 的 zeros_like(y)。把各行堆叠起来。torch.autograd.functional.jacobian(f, x) 一次调用就能做到同样的事。",
        "leaf = x.detach().requires_grad_(True)；y = f(leaf)；rows = []，对每个 i：pick = torch.zeros_like(y)；pick[i] = 1.0；rows.append(torch.autograd.grad(y, leaf, pick, retain_graph=True)[0])。返回 torch.stack(rows)，形状为 (m, n)。如果可能在 no_grad 下被调用，就把它包在 torch.enable_grad() 里。",
    ),
    "to_numpy": (
        "张量和 NumPy 之间隔着两样东西：它可能所属的计算图，以及它可能所在的内存。NumPy 既不懂梯度也不懂 GPU，所以两者都要在转换之前处理好，而且要对任何张量都适用。",
        "detach() 脱离计算图而不改动 t，cpu() 把数据搬到主内存（对已经在那里的张量什么也不做），然后 numpy() 共享这块内存。dtype 一路保持不变，所以 float32 仍是 float32。",
        "return t.detach().cpu().numpy()。单独的 t.numpy() 在 t 需要梯度时会失败，t.detach().numpy() 在 GPU 上会失败；t.tolist() 得到的是列表，不是数组。",
    ),
    "save_weights": (
        "想一想每个张量被写进文件的都有什么：它的数值，还有它是否需要梯度、它在哪个设备上、它背后的全部内存。对每一项，都做一个只带着“没有 GPU 的机器取回数值所需内容”的张量。",
        "对每个参数：detach() 去掉 requires_grad，cpu() 把它移到主内存，clone() 给它一块独立的存储，这样大缓冲区里的视图就不会再把整个缓冲区带上（在 CPU 上 cpu() 什么也不复制，所以它做不了这件事）。用 torch.save 保存这些副本组成的列表。",
        "torch.save([p.detach().cpu().clone() for p in params], path)。params 保持原样，torch.load(path, weights_only=True) 读回的是一个普通 CPU 张量的列表。",
    ),
}

EXPLANATIONS: dict[str, str] = {
    "scalar_grad": "传进来的输入不需要梯度，所以答案先用它做一个新的叶子。对叶子调用 f 会记录计算图；backward() 从标量结果沿图反向走回叶子，把导数存进 leaf.grad。叶子的 dtype 和 device 与 x 相同，它的梯度也一样。",
    "vector_grad": "backward() 需要从一个数出发，求和正好给出这个数。d(总和)/d(x_i) 会把所有依赖 x_i 的输出的导数加起来，所以梯度保持 x 的形状，每个元素一项。",
    "partial_grads": "torch.autograd.grad 直接返回梯度（按叶子的顺序，每个叶子一个），而不是存进 .grad。allow_unused=True 允许它对 f 没用到的输入返回 None；函数不依赖某个输入时，对它的导数就是零，所以把 None 换成与该输入形状、dtype、device 相同的全零张量。",
    "evaluate_without_grad": "在 torch.no_grad() 语句块里，任何运算都不会被记录，所以无论 x 和权重是否需要梯度，结果都没有 grad_fn，也不需要梯度。离开语句块时会恢复之前的模式，因此调用者的梯度模式不受影响。",
    "accumulated_grad": "backward() 会把结果加到 .grad 上，而不是替换它。对同一个叶子调用 times 次、中间什么都不清空，x.grad 里就是原有梯度加上 times 倍的新梯度。",
    "fresh_grads": "每次 backward() 之前清空 x.grad，每个函数就得到只属于自己的梯度。x.grad 是同一个张量，zero_() 会原地清零，所以每个梯度都用 clone() 保存副本；否则列表里每一项都是同一个张量，只能看到最后的值。",
    "gradient_descent": "每一步先清空梯度（包括遗留的旧梯度），计算平均损失，调用 backward()，再让每个参数沿它自己梯度的反方向移动。更新放在 torch.no_grad() 里，不会被记录；-= 原地修改张量，所以调用者的参数仍然是需要梯度的叶子。",
    "detach_alias": "detach() 返回一个脱离计算图的张量（没有 grad_fn，requires_grad 为 False），但它指向 x 的内存：改任何一个，两边都会变。x 本身不受影响，仍然需要梯度。",
    # unit 2: exercises 9-12
    "shared_trunk_grads": "trunk 只运行一次，每个 head 都建立在它的输出上。backward() 通常在用完计算图保存的值后立即释放它们；retain_graph=True 会保留这些值，于是每个 head 都能依次经过 trunk 反向传播。torch.autograd.grad 把每个梯度作为新张量返回，而不是累加到 .grad 上，所以不用清零或复制，各个 head 的梯度也互不影响。",
    "hvp": "有了 create_graph=True，第一次 torch.autograd.grad 会记录梯度 g 是怎么算出来的，所以 g 还能再求导。以 grad_outputs=v 求 g 的梯度，得到的是 (g * v).sum() 的梯度；因为 v 与 x 无关，它正好是 H·v。整个过程从不构造 Hessian 本身，所以不管 x 多大，代价都只相当于大约两次反向传播。",
    "intermediate_grads": "y 不是叶子，所以 backward() 在传到 x 的途中会算出它的梯度，但不会保留；y.retain_grad() 要求把它保留下来。backward() 还会累加到 x.grad 上，所以参考答案先把调用者的梯度存起来，让 backward() 填一个新的，最后再放回原来的。torch.autograd.grad(L, (y, x)) 也能一次得到这两个梯度，而且不碰任何 .grad。",
    "clipped_grad": "y 上的钩子在 backward() 过程中收到到达 y 的梯度；它的返回值替换了这个梯度，所以经过 f 传回 x 的是裁剪后的值。如果事后再裁剪 x 的梯度，答案就不同了，因为 f 会在 y 和 x 之间把梯度混合、缩放。",
    # unit 2: exercises 13-16
    "round_ste": "自定义 Function 规定了两个方向：forward 计算 torch.round(x)，它自身的导数几乎处处为零；backward 不理会这一点，像恒等函数那样把传进来的梯度原样返回。只有在 x 需要梯度并且记录处于打开状态时，autograd 才会记下这个 Function，所以在 no_grad 下什么也不会保留。detach 技巧得到同样的结果：在 x + (torch.round(x) - x).detach() 中，被 detach 的步长是常数，所以值是取整后的值，梯度则是 x 的梯度。",
    "jacobian": "以 grad_outputs 为 v 从 y 反向传播，得到向量-雅可比积 v^T J。取 v = e_i，得到的就是 J 的第 i 行，所以用独热向量做 m 次反向传播就能拼出整个矩阵。retain_graph=True 为下一次保留计算图；torch.autograd.grad 直接返回每一行，而不是加到 .grad 上（所以叶子和 f 的权重都不会多出 .grad）；得到的各行也都已脱离计算图。",
    "to_numpy": "detach() 返回一个脱离计算图、与 t 共享内存的张量，所以在 CPU 上不做任何复制，t 也仍然需要梯度。cpu() 在数据不在主内存时把它复制过来，已经在主内存时直接返回张量本身。随后 numpy() 把这块内存包装成形状和 dtype 都相同的数组。",
    "save_weights": "torch.save 会为每个张量写下它的存储（即使是视图，也是整块存储）、存储所在的设备，以及 requires_grad 标志。detach() 去掉这个标志，cpu() 让存储位于 CPU，clone() 则生成一块与张量大小恰好相同的存储——这在 CPU 上很关键，因为那里 cpu() 返回的就是同一个视图。这些副本组成的列表用 weights_only=True 在任何地方都能加载，而参数本身从未被改动。",
}
