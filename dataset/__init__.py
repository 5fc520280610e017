"""Data sets for the exercises, read from the files shipped in the repository's ``datasets/``.

``from dataset.mnist import load_mnist`` works as in the book "Deep Learning from Scratch";
``dataset.mnist.load_data()`` returns what ``keras.datasets.mnist.load_data()`` does, offline.
Nothing is imported here, so that importing the package stays cheap.
"""
