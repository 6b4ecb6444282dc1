"""`./inv soak`: the currency soak (`currency`): commands through write → SQS → projector with projector faults
injected, then every command counted as applied exactly once."""
