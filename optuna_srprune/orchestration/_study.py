"""Opening, creating, joining and topping up a study of optuna-srprune (torch-free)."""

from __future__ import annotations

import optuna
from optuna.trial import TrialState

from optuna_srprune._names import DIRECTIONS
from optuna_srprune._redact import mask_url
from optuna_srprune.exceptions import StudyError
from optuna_srprune.orchestration._runner import add_tickets
from optuna_srprune.orchestration._settings import load_settings
from optuna_srprune.orchestration._settings import save_settings
from optuna_srprune.orchestration._settings import SearchSettings
from optuna_srprune.orchestration._storage import open_storage


def open_study(storage_url: str, name: str, heartbeat_s: int = 10) -> optuna.Study:
    """An existing study, naming the studies there if it does not exist.

    Args:
        storage_url: SQLAlchemy database URL; a SQLite file that does not exist is refused, not made.
        name: The study's name.
        heartbeat_s: Heartbeat interval of the trials run through the returned study.

    Raises:
        StudyError: The storage cannot be opened or holds no study of that name.
    """
    storage = open_storage(storage_url, heartbeat_s, must_exist=True)
    names = optuna.get_all_study_names(storage)
    if name not in names:
        available = ", ".join(repr(n) for n in sorted(names)) or "none"
        raise StudyError(
            f"No study {name!r} in {mask_url(storage_url)} (studies there: {available}); create it "
            "with `optuna-srprune search`."
        )
    return optuna.load_study(study_name=name, storage=storage)


def existing_settings(storage: optuna.storages.BaseStorage, name: str) -> SearchSettings | None:
    """The settings of study ``name`` in ``storage``, or ``None`` if there is no such study."""
    if name not in optuna.get_all_study_names(storage):
        return None
    return load_settings(optuna.load_study(study_name=name, storage=storage))


def check_joinable(name: str, existing: SearchSettings, settings: SearchSettings) -> None:
    """Refuse to join study ``name`` with settings that give its trials another meaning."""
    differences = existing.differences(settings)
    if differences:
        shown = ", ".join(f"{k}: study has {a!r}, asked {b!r}" for k, (a, b) in differences.items())
        raise StudyError(f"Study {name!r} exists with other settings ({shown}).")


def create_study(storage: optuna.storages.BaseStorage, name: str, settings: SearchSettings) -> optuna.Study:
    """Create study ``name`` with its settings and one queued trial per trial it aims for.

    Another process may create it at the same moment: then that study is joined if its settings are
    the same (its trials are already queued), and refused otherwise.
    """
    try:
        study = optuna.create_study(study_name=name, storage=storage, directions=list(DIRECTIONS))
    except optuna.exceptions.DuplicatedStudyError:
        study = optuna.load_study(study_name=name, storage=storage)
        if load_settings(study).differences(settings):
            raise StudyError(f"Study {name!r} was just created with other settings.") from None
        return study
    save_settings(study, settings)
    add_tickets(study, settings.n_trials)
    return study


def create_or_join(
    storage: optuna.storages.BaseStorage, name: str, settings: SearchSettings, exists: bool
) -> optuna.Study:
    """Create study ``name``, or join it (``exists``) and queue the trials its target grew by."""
    if not exists:
        return create_study(storage, name, settings)
    study = optuna.load_study(study_name=name, storage=storage)
    top_up(study, settings.n_trials)
    return study


def top_up(study: optuna.Study, n_trials: int) -> None:
    """Queue more trials if the study's target grew; never fewer."""
    live = study.get_trials(
        deepcopy=False, states=(TrialState.COMPLETE, TrialState.WAITING, TrialState.RUNNING)
    )
    add_tickets(study, max(0, n_trials - len(live)))
