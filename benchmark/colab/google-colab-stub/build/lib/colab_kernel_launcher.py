"""Colab's kernels start as ``python -m colab_kernel_launcher -f CONNECTION_FILE`` with
``google.colab`` already imported; this stub does the same."""

import google.colab  # noqa: F401 - imported at kernel start, as in Colab

if __name__ == "__main__":
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()
