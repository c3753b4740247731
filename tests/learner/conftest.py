"""Fixtures of the learner tests."""
import pytest


@pytest.fixture(scope="session")
def tiny_bert_path(tmp_path_factory) -> str:
    """One tiny offline BERT for the session (the per-test default is rebuilt in every test's artifact root)."""
    from annotation.corpora import synthetic_corpus
    from learner.backbone import build_tiny_backbone

    sample = [row.text for lang in synthetic_corpus(["eng_Latn", "urd_Arab", "amh_Ethi", "hau_Latn"]).values()
              for rows in lang.values() for row in rows]
    return str(build_tiny_backbone(tmp_path_factory.mktemp("backbones") / "tiny-bert", sample))


@pytest.fixture
def tiny_backbone(settings, tiny_bert_path) -> str:
    """LEARNER_BACKBONE names the session's tiny BERT."""
    settings.LEARNER_BACKBONE = tiny_bert_path
    return tiny_bert_path
