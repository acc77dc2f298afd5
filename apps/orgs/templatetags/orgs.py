from django import template

from apps.orgs.permissions import can as role_can
from apps.orgs.permissions import role_remember

register = template.Library()


@register.simple_tag(takes_context=True)
def can(context, action: str, project=None) -> bool:
    """`{% can "run.delete" run.project as may_delete %}`: whether to show what `action` needs. The
    project defaults to the current one; the server checks again whatever the page shows."""
    project = project or context.get("current_project")
    request = context.get("request")
    if not project or request is None:
        return False
    role_remember(
        user=request.user, organization_id=project.organization_id, role=getattr(project, "member_role", None)
    )
    return role_can(user=request.user, organization_id=project.organization_id, action=action)
