from django.conf import settings

from .navigation import menu_for


def navigation(request):
    user = getattr(request, "user", None)
    menu = menu_for(user)
    path = request.path
    active = max((item["url"] for item in menu if path.startswith(item["url"])), key=len, default=None)
    return {"bureau_name": settings.BUREAU_NAME, "menu": menu, "menu_active": active}
