//! Lint rules over a chart, its values and its rendered output.
