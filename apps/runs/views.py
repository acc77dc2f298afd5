from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def run_list(request):
    return render(request, "runs/list.html")
