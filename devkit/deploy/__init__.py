"""`./inv deploy`, `outputs`, `destroy`: one SAM stack per stage (`stage`), the template prepared for it
(`template`), the SAM CLI (`sam`) and the auth service's signing key (`keys`)."""
