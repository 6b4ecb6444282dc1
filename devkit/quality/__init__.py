"""`./inv lint` and `./inv test`: named steps with one summary (`steps`), the lint steps (`lint`, `actionlint`)
and the full suite (`suite`)."""
