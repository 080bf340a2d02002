"""The one reading of "the template a sender needs, or the error that names it"."""

import pytest

from core.errors import ApplicationError
from notify.models import MessageTemplate
from notify.selectors import sendable_template

pytestmark = pytest.mark.django_db


def test_an_active_template_is_returned_and_a_missing_or_stopped_one_is_named():
    template = MessageTemplate.objects.create(code="probe", name="测试模板", body="{taxpayer_name}您好")
    assert sendable_template("probe", name="测试模板") == template
    template.active = False
    template.save()
    with pytest.raises(
        ApplicationError, match="短信模板“测试模板”不存在或已停用，无法发送账单；请信息中心在系统管理中启用后重新登记。"
    ) as refused:
        sendable_template("probe", name="测试模板", to_do="发送账单", then="重新登记")
    assert refused.value.code == "template_missing"
    with pytest.raises(ApplicationError, match="无法发送；请信息中心在系统管理中启用后重试"):
        sendable_template("absent", name="未建模板")
