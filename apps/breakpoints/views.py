from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def breakpoint_list(request):
    return render(request, "breakpoints/list.html")
