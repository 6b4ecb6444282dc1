"""`./inv logs` and `./inv metrics`: function logs (`logs`) and EMF metrics (`metrics`), from the local cloud's
function output or from CloudWatch for a deployed stage."""
