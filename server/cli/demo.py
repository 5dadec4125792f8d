"""``backprop-live demo``: the reference design's first example, its value and gradients."""

from __future__ import annotations


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "demo", help="print the reference example's value and gradients",
        description="y = (sin(x1+1) + cos(2 x2)) tan(log x3) + (sin(x2+1) + cos(2 x1)) "
                    "exp(1 + sin x3), and dy/dx1, dy/dx2, dy/dx3 by back-propagation.")
    for i, default in enumerate((0.3, 0.7, 1.4), start=1):
        parser.add_argument(f"--x{i}", type=float, default=default,
                            help=f"the value of x{i} (default {default})")
    parser.set_defaults(main=main)


def main(args) -> int:
    from engine.examples import reference_expression

    x, y, graph = reference_expression(args.x1, args.x2, args.x3)
    graph.compute_forward()
    graph.back_prop()
    print(f"y = {y.forward:.12g}")
    for xi in x:
        print(f"dy/d{xi.name} = {xi.backward:.12g}")
    return 0
