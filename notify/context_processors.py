from .selectors import unread_count


def inbox(request):
    """Unread in-app notifications for the top bar (shown in the top bar)."""
    user = getattr(request, "user", None)
    if not getattr(user, "is_authenticated", False):
        return {}
    return {"inbox_unread": unread_count(user)}
