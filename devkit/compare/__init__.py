"""`./inv compare`: the same bounded loopback traffic against every topology (lith, micro, fat, read/write split,
LMI) of one local cloud per traffic profile; latency, cold starts, environments, memory, a Lambda-ish monthly
cost, IAM breadth and deploy size per topology; Markdown + HTML (charts) and a "which pattern when" section
generated from the measured numbers (`advice`)."""
