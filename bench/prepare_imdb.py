"""IMDB reviews -> imdb-train.txt and imdb-test.txt (`__label__pos words...`), imdb-train-text.txt (words only).

Lower-cased, `<br />` tags removed, tokenised with [^\W_]+(?:'[^\W_]+)*, and shuffled
(the archive lists all negative reviews first; SGD wants them mixed).
"""
import random, re, sys, tarfile

TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
reviews = {"train": [], "test": []}
with tarfile.open(sys.argv[1]) as tar:
    for member in tar:
        parts = member.name.split("/")  # aclImdb/train/pos/0_9.txt
        if member.isfile() and len(parts) == 4 and parts[1] in reviews and parts[2] in ("pos", "neg"):
            review = tar.extractfile(member).read().decode("utf-8").replace("<br />", " ").lower()
            reviews[parts[1]].append((parts[2], " ".join(TOKEN.findall(review))))
for split, items in reviews.items():
    random.Random(0).shuffle(items)
    with open(f"imdb-{split}.txt", "w") as labelled:
        labelled.writelines(f"__label__{label} {words}\n" for label, words in items)
with open("imdb-train-text.txt", "w") as text:
    text.writelines(words + "\n" for _, words in reviews["train"])
