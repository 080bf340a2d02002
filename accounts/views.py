from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import render


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": "用户名或密码不正确。请注意区分大小写；连续失败 %(limit)s 次将被暂时锁定。",
        "inactive": "该账户已停用，请联系信息中心。",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "用户名"
        self.fields["password"].label = "密码"
        from django.conf import settings

        self.error_messages = {
            **self.error_messages,
            "invalid_login": self.error_messages["invalid_login"] % {"limit": settings.AXES_FAILURE_LIMIT},
        }


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


@login_required
def home(request):
    """工作台: the signed-in officer's starting page."""
    return render(request, "accounts/home.html")
