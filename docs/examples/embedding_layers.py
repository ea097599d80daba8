"""A fastemb vectors file as the starting weights of a PyTorch and a Keras embedding layer.

Loads the file, builds each framework's embedding layer from its matrix (one row per word, in the
file's order), takes one training step of a tiny classifier on a batch of two 3-word documents, and
prints which rows of the embedding table the step changed: only the rows of the batch's words.

    pip install torch keras            # neither is a fastemb dependency
    fastemb skipgram -o vectors.txt --threads 1 --seed 1
    python docs/examples/embedding_layers.py vectors.txt

Keras runs on the torch backend: the script sets KERAS_BACKEND=torch unless it is set already.
"""
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

import fastemb  # noqa: E402

path = sys.argv[1] if len(sys.argv) > 1 else "vectors.txt"
vectors = fastemb.load_vectors(path)
matrix = vectors.matrix                                    # float32, shape (words, dim)
row_of = {word: row for row, word in enumerate(vectors.words)}  # the vocabulary mapping: word -> row
print(f"{path}: {matrix.shape[0]:,} words x {matrix.shape[1]} dims")

documents = [["king", "queen", "palace"], ["cars", "engine", "garage"]]
labels = [0, 1]
ids = np.array([[row_of[word] for word in document] for document in documents])
batch_rows = sorted(set(ids.ravel().tolist()))
print(f"batch: {documents} -> rows {ids.tolist()}")


def words_of(rows):
    return [f"{row}:{vectors.words[row]}" for row in rows]


def changed_rows(before, after):
    return np.flatnonzero((before != after).any(axis=1)).tolist()


print("\n== PyTorch: nn.Embedding.from_pretrained(matrix, freeze=..., sparse=True) ==")
for freeze in (True, False):
    torch.manual_seed(0)
    embedding = torch.nn.Embedding.from_pretrained(torch.from_numpy(matrix.copy()), freeze=freeze, sparse=True)
    head = torch.nn.Linear(matrix.shape[1], 2)
    trainable = [p for p in (*embedding.parameters(), *head.parameters()) if p.requires_grad]
    optimizer = torch.optim.SGD(trainable, lr=0.5)     # plain SGD takes sparse gradients
    before = embedding.weight.detach().clone()
    logits = head(embedding(torch.from_numpy(ids)).mean(dim=1))  # average the rows, score the labels
    loss = torch.nn.functional.cross_entropy(logits, torch.tensor(labels))
    loss.backward()
    grad = embedding.weight.grad
    if grad is None:
        print(f"freeze={freeze}: the table gets no gradient at all")
    else:
        grad = grad.coalesce()
        print(f"freeze={freeze}: gradient is {grad.layout}, {grad.values().shape[0]} rows of "
              f"{embedding.weight.shape[0]:,}: indices {grad.indices()[0].tolist()}")
        by_row = dict(zip(grad.indices()[0].tolist(), grad.values()))
        for document, row_ids in zip(documents, ids.tolist()):  # the mean hands each word the same share
            same = all(torch.equal(by_row[row], by_row[row_ids[0]]) for row in row_ids)
            print(f"  {document}: one gradient row shared by its 3 words: {same}")
    optimizer.step()
    rows = changed_rows(before.numpy(), embedding.weight.detach().numpy())
    print(f"  rows changed by the step: {len(rows)} {words_of(rows)}")
    if not freeze:
        assert rows == batch_rows

print("\n== Keras: Embedding(embeddings_initializer=Constant(matrix), trainable=...) ==")
layer = keras.layers.Embedding(matrix.shape[0], matrix.shape[1],
                               embeddings_initializer=keras.initializers.Constant(matrix), trainable=False)
keras.utils.set_random_seed(0)
model = keras.Sequential([keras.Input(shape=(3,), dtype="int32"), layer,
                          keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(2)])
assert np.array_equal(layer.get_weights()[0], matrix)  # the table starts as the file's vectors
for trainable in (False, True):
    layer.trainable = trainable
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.5),  # compile again after changing trainable
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    before = layer.get_weights()[0].copy()
    model.train_on_batch(ids, np.array(labels))
    rows = changed_rows(before, layer.get_weights()[0])
    print(f"trainable={trainable}: rows changed by the step: {len(rows)} {words_of(rows)}")
    if trainable:
        assert rows == batch_rows
