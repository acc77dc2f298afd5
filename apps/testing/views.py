from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def test_list(request):
    return render(request, "testing/list.html")
