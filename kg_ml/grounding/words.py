"""Word lists of DRAGON's grounding (``preprocess_utils/grounding.py``), kept verbatim.

NLTK is not a dependency: its English stopword list (NLTK 3.x, 179 words) is copied here.
"""

from __future__ import annotations

NLTK_STOPWORDS = frozenset(["i", "me", "my", "myself", "we", "our", "ours", "ourselves", "you", "you're", "you've", "you'll", "you'd", "your", "yours", "yourself", "yourselves", "he", "him", "his", "himself", "she", "she's", "her", "hers", "herself", "it", "it's", "its", "itself", "they", "them", "their", "theirs", "themselves", "what", "which", "who", "whom", "this", "that", "that'll", "these", "those", "am", "is", "are", "was", "were", "be", "been", "being", "have", "has", "had", "having", "do", "does", "did", "doing", "a", "an", "the", "and", "but", "if", "or", "because", "as", "until", "while", "of", "at", "by", "for", "with", "about", "against", "between", "into", "through", "during", "before", "after", "above", "below", "to", "from", "up", "down", "in", "out", "on", "off", "over", "under", "again", "further", "then", "once", "here", "there", "when", "where", "why", "how", "all", "any", "both", "each", "few", "more", "most", "other", "some", "such", "no", "nor", "not", "only", "own", "same", "so", "than", "too", "very", "s", "t", "can", "will", "just", "don", "don't", "should", "should've", "now", "d", "ll", "m", "o", "re", "ve", "y", "ain", "aren", "aren't", "couldn", "couldn't", "didn", "didn't", "doesn", "doesn't", "hadn", "hadn't", "hasn", "hasn't", "haven", "haven't", "isn", "isn't", "ma", "mightn", "mightn't", "mustn", "mustn't", "needn", "needn't", "shan", "shan't", "shouldn", "shouldn't", "wasn", "wasn't", "weren", "weren't", "won", "won't", "wouldn", "wouldn't"])

# A concept starting or ending with one of these gets no matcher pattern.
PRONOUNS = frozenset(["my", "you", "it", "its", "your", "i", "he", "she", "his", "her", "they", "them",
                      "their", "our", "we"])

# DRAGON's grounding blacklist: never a pattern on its own, never a grounded concept.
# ("-PRON-" was spaCy 2's pronoun lemma; kept for fidelity, harmless under spaCy 3.)
GROUNDING_BLACKLIST = frozenset(["-PRON-", "actually", "likely", "possibly", "want", "make", "my",
                                 "someone", "sometimes_people", "sometimes", "would", "want_to", "one",
                                 "something", "everybody", "somebody", "could", "could_be"])
