# kura patches to moto (see ../sitecustomize.py).
