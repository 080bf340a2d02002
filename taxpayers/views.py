from django.contrib.auth.decorators import login_required
from django.http import HttpResponse


@login_required
def taxpayer_list(request):
    return HttpResponse("")


@login_required
def taxpayer_detail(request, identifier):
    return HttpResponse("")
