"""Developer tooling beside the product: the sample export generator and the evaluation CLIs.

The product package (`telegram_intel`) never imports this one, except the `sample` and `demo` commands, which
generate a sample export on request.
"""
