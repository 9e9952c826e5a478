"""Tools that never ship, by purpose: cli (the command line), aws (deploy, lint, executions, the stack and its
template), bench (make bench, cost, projection), synthetic (the generator and its panel), research (the observable
ceiling, the repeat-purchase baseline)."""
