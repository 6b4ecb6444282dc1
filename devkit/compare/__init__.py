"""`./inv compare`: the same bounded traffic against every topology (lith, micro, fat, read/write split, LMI) of
one fresh local cloud per traffic profile (`run`), or of a deployed stage (`stage`). Measured: latency, cold starts,
environments, memory, billed durations (`reportlines`), IAM breadth (`iam`), deploy size; priced against monthly
volume (`curve`, list prices in `cost`); a decision table per profile (`decision`); one self-contained HTML page of
inline SVG charts (`page`, `svg`) and Markdown (`report`)."""
