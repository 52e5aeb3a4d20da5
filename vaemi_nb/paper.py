"""Reference numbers reported by Liu et al. (2020) and their released MNIST code.

These are the paper's numbers, typed in from the paper's Figure 1 and the authors' notebook
(see the book's introduction); every other number in the book is computed.
"""

MNIST_SETTINGS = dict(latent_dim=128, beta=6.0, likelihood="gaussian", lr=1e-3, batch_size=100,
                      epochs=100, split=(50_000, 10_000, 10_000))

#: Figure 1: factors with MI of about 1.0-3.1 nats; the rest about 0.
MNIST_FIGURE1_INFLUENTIAL = 13
#: The authors' notebook run: 15 of 128 factors active, 1.25-3.34 nats each, about 33 nats in total.
MNIST_NOTEBOOK_INFLUENTIAL = 15
MNIST_NOTEBOOK_TOTAL_MI = 33.0

#: Test accuracy (%) of the probe on the encoder means keeping the top-k MI factors, others zeroed.
MNIST_TOPK_ACCURACY = {128: 98.06, 64: 97.83, 13: 93.13, 9: 85.53, 7: 78.41, 6: 75.02, 4: 51.93,
                       3: 35.71, 2: 26.47, 0: 10.09}

#: Traversal range in the authors' notebook, and the MI threshold for traversed factors (nats).
MNIST_TRAVERSAL = dict(lo=-3.0, hi=2.4, step=0.6, min_mi=0.5)
