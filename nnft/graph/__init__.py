"""The computation graph of a theory: spec -> graph (``build``, layout and accessors in ``ir``) ->
static checks (``check``) -> structure (``analyse``), moments (``moments``), infinite-width kernels
(``kernels``), symmetries by construction (``symmetry``) -> JAX (``evaluate``, ``compile`` -> ``Model``)."""
