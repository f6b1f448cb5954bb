from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Model
from django.utils.translation import gettext as _

from core.errors import InvalidInput


def full_clean_or_refuse(obj: Model, *, exclude: list[str] | None = None) -> None:
    """Run the model's validation and turn its errors into ``InvalidInput`` naming each field."""
    try:
        obj.full_clean(exclude=exclude)
    except ValidationError as exc:
        details = {field: [str(m) for m in messages] for field, messages in exc.message_dict.items()}
        raise InvalidInput(_("Some values are not valid."), details=details) from None
