"""HTTP: the output folder served to feed readers and browsers; imports no other stage."""
