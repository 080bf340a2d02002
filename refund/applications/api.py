"""The refund applications API (DRF): the core system pushes arrivals, officers' tools read the queue.

Thin: parse, call ``refund.applications.services`` or the scoped selectors, render. Errors of the services
come back through the one exception handler (``accounts.api_errors``) as ``{"error", "message"}`` with
their status (400; 409 for a duplicate application).
"""

from __future__ import annotations

from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.reverse import reverse

from accounts.api_schema import (
    ERROR_HEADERS,
    ApiErrorSerializer,
    ErrorDetailSerializer,
    ValidationErrorsSerializer,
    bad_request,
    error_responses,
)
from core.errors import ApplicationError
from core.masking import mask_identifier
from core.periods import PERIOD_RE
from taxpayers.selectors import taxpayer_get_for_user

from ..models import OPEN_APPLICATION_STATES, RefundApplication
from .claims import CLAIM_INPUT_DIGITS, claim_difference
from .selectors import application_get_for_user, applications_for_user
from .services import application_receive


class CanUseApplications(BasePermission):
    """GET: 查看留抵退税申请; POST: 受理留抵退税申请 (``refund.add_refundapplication``)."""

    message = "您的岗位无权查看或受理留抵退税申请。"

    def has_permission(self, request, view):
        if request.method == "POST":
            return request.user.has_perm("refund.add_refundapplication")
        return request.user.has_perm("refund.view_refundapplication")


def _money(**kwargs):
    return serializers.DecimalField(max_digits=16, decimal_places=2, **kwargs)


@extend_schema_field(
    {
        "type": "string",
        "format": "decimal",
        "pattern": rf"^\d{{1,{CLAIM_INPUT_DIGITS - 2}}}(\.\d{{1,2}})?$",
        "example": "1200000.00",
    }
)
class ClaimAmountField(serializers.DecimalField):
    """A claim as sent: yuan with at most two places, never negative (the schema's generic decimal pattern would
    also admit "", "-" and ".", which are no amount)."""


class ApplicationInputSerializer(serializers.Serializer):
    taxpayer_identifier = serializers.CharField(max_length=20, help_text="纳税人识别号（统一社会信用代码）")
    application_period = serializers.RegexField(
        PERIOD_RE.pattern,
        help_text="申请退税所属期 YYYY-MM",
        error_messages={"invalid": "申请退税所属期应为 YYYY-MM（如 2026-03）。"},
    )
    kind = serializers.ChoiceField(choices=RefundApplication.Kind.choices, help_text="incremental、stock、both")
    # Digits well past a money field's: an absurd claim is refused by the one rule for claims
    # (refund.applications.claims), in words; only what is no amount at all stops here.
    claimed_amount = ClaimAmountField(
        max_digits=CLAIM_INPUT_DIGITS,
        decimal_places=2,
        min_value=0,
        help_text="申请退税额（元，两位小数）",
        error_messages={
            "max_digits": "金额过大，请确认金额的单位是“元”。",
            "max_whole_digits": "金额过大，请确认金额的单位是“元”。",
        },
    )
    received_on = serializers.DateField(help_text="受理日期")
    document_number = serializers.CharField(
        max_length=40, required=False, allow_null=True, allow_blank=True, help_text="核心征管系统的申请文书号"
    )


class TaxpayerBriefSerializer(serializers.Serializer):
    identifier = serializers.SerializerMethodField(help_text="纳税人识别号（脱敏）")
    name = serializers.CharField()

    def get_identifier(self, obj) -> str:
        return mask_identifier(obj.identifier)


class BranchBriefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


def _user_name(user) -> str | None:
    """An officer as the API names them: the full name, else the username; None for nobody (or the system)."""
    return None if user is None else (user.full_name or user.username)


class ApplicationListOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.SerializerMethodField(help_text="本申请的详情接口地址")
    document_number = serializers.CharField(allow_null=True)
    taxpayer = TaxpayerBriefSerializer()
    branch = BranchBriefSerializer()
    application_period = serializers.CharField()
    kind = serializers.ChoiceField(choices=RefundApplication.Kind.choices)
    source = serializers.ChoiceField(choices=RefundApplication.Source.choices)
    state = serializers.ChoiceField(choices=RefundApplication.State.choices)
    state_label = serializers.CharField(source="get_state_display")
    received_on = serializers.DateField()
    due_on = serializers.DateField(help_text="办结期限（受理之日起 10 个工作日）")
    overdue = serializers.SerializerMethodField(help_text="未办结且已过办结期限")
    claimed_amount = _money()
    computed_amount = _money(allow_null=True)
    confirmed_amount = _money(allow_null=True)
    risk_status = serializers.ChoiceField(choices=RefundApplication.Risk.choices)
    assigned_to = serializers.SerializerMethodField()

    def get_url(self, obj) -> str:
        return reverse("api:refund-application-detail", args=[obj.pk], request=self.context.get("request"))

    def get_overdue(self, obj) -> bool:
        return obj.state in OPEN_APPLICATION_STATES and obj.due_on < timezone.localdate()

    def get_assigned_to(self, obj) -> str | None:
        return _user_name(obj.assigned_to)


class RiskHitOutputSerializer(serializers.Serializer):
    stage = serializers.CharField()
    code = serializers.CharField()
    title = serializers.CharField()
    evidence = serializers.JSONField()
    created_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)
    resolution = serializers.CharField()


class TransitionOutputSerializer(serializers.Serializer):
    from_state = serializers.CharField()
    to_state = serializers.CharField()
    reason = serializers.CharField()
    evidence = serializers.JSONField()
    actor = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_actor(self, obj) -> str | None:
        return _user_name(obj.actor)


class ApplicationDetailOutputSerializer(ApplicationListOutputSerializer):
    credit_level_at_submission = serializers.CharField()
    regime = serializers.CharField()
    size = serializers.CharField()
    industry_code = serializers.CharField()
    computed_eligible = serializers.BooleanField(allow_null=True)
    computed_incremental = _money(allow_null=True)
    computed_stock = _money(allow_null=True)
    confirmed_incremental = _money(allow_null=True)
    confirmed_stock = _money(allow_null=True)
    correction_reason = serializers.CharField()
    decision_reason = serializers.CharField()
    approved_at = serializers.DateTimeField(allow_null=True)
    paid_on = serializers.DateField(allow_null=True)
    paid_amount = _money(allow_null=True)
    risk_hits = RiskHitOutputSerializer(many=True)
    transitions = TransitionOutputSerializer(many=True)
    claim_difference = serializers.SerializerMethodField(
        help_text="申请退税额与规则计算可退税额的差异，如“申请退税额比测算可退税额多 1,000.00 元（+0.1%）”；一致时为空"
    )

    def get_claim_difference(self, obj) -> str:
        return claim_difference(obj.claimed_amount, obj.computed_amount)


class ApplicationListCreateApi(generics.ListCreateAPIView):
    """留抵退税申请: GET the caller's (branch-scoped) applications, POST an arrival from the core system."""

    permission_classes = (IsAuthenticated, CanUseApplications)
    serializer_class = ApplicationListOutputSerializer
    filter_backends = ()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return RefundApplication.objects.none()
        queryset = applications_for_user(user=self.request.user).order_by("received_on", "id")
        state = self.request.query_params.get("state")
        if state:
            if state not in RefundApplication.State.values:
                raise ValidationError({"state": [f"状态“{state}”无效。"]})
            queryset = queryset.filter(state=state)
        return queryset

    @extend_schema(
        operation_id="refund_applications_list",
        summary="留抵退税申请列表",
        description="本人权限范围内的留抵退税申请，按受理日期由早到晚；可按 state 筛选。",
        parameters=[
            OpenApiParameter(
                "state",
                str,
                enum=RefundApplication.State.values,
                description="只列此状态的申请："
                + "、".join(f"{value}（{label}）" for value, label in RefundApplication.State.choices),
            ),
            *ERROR_HEADERS,
        ],
        responses={
            200: ApplicationListOutputSerializer(many=True),
            **error_responses(
                400,
                401,
                403,
                404,
                429,
                body_400=ValidationErrorsSerializer,
                description_400="state 无效",
                description_404="页码超出范围",
            ),
        },
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="refund_applications_create",
        summary="受理留抵退税申请",
        description="核心征管系统推送一份申请：按规则计算可退税额并做受理时风险扫描。"
        "申请退税额不大于 0、超过金额上限或超过该纳税人所属期期末留抵税额时返回 400（claim_refused）；"
        "与测算可退税额不一致时照常受理，claim_difference 说明差异。"
        "同一申请文书号或同一纳税人同一所属期已有申请时返回 409。",
        request=ApplicationInputSerializer,
        responses={
            201: ApplicationDetailOutputSerializer,
            **error_responses(
                400,
                401,
                403,
                409,
                415,
                429,
                body_400=bad_request(
                    ValidationErrorsSerializer,
                    ApiErrorSerializer,
                    ErrorDetailSerializer,
                    component_name="ApplicationRefused",
                ),
                description_400="字段无效（各字段的错误）；纳税人不存在或不在本人权限范围内（unknown_taxpayer）；"
                "申请退税额被拒绝（claim_refused，field 为 claimed_amount）或其他不能受理的原因（error 与 message）；"
                "请求体无法解析（detail）",
                description_409="同一申请文书号或同一纳税人同一所属期已有申请（duplicate_application）",
            ),
        },
        parameters=ERROR_HEADERS,
    )
    def post(self, request, *args, **kwargs):
        data = ApplicationInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            taxpayer = taxpayer_get_for_user(user=request.user, identifier=values["taxpayer_identifier"])
        except Http404:
            raise ApplicationError(
                f"纳税人识别号“{values['taxpayer_identifier']}”在系统中不存在或不在您的权限范围内。",
                code="unknown_taxpayer",
            ) from None
        application = application_receive(
            actor=request.user,
            taxpayer=taxpayer,
            application_period=values["application_period"],
            kind=values["kind"],
            claimed_amount=values["claimed_amount"],
            received_on=values["received_on"],
            source=RefundApplication.Source.API,
            document_number=values.get("document_number") or None,
        )
        application = application_get_for_user(user=request.user, pk=application.pk)
        body = ApplicationDetailOutputSerializer(application, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED)


class ApplicationDetailApi(generics.RetrieveAPIView):
    """One application with its risk findings and history; 404 outside the caller's branches."""

    permission_classes = (IsAuthenticated, CanUseApplications)
    serializer_class = ApplicationDetailOutputSerializer
    filter_backends = ()

    def get_object(self):
        return application_get_for_user(user=self.request.user, pk=self.kwargs["pk"])

    @extend_schema(
        operation_id="refund_applications_retrieve",
        summary="留抵退税申请详情",
        description="一份申请的规则计算结果、确认金额、风险疑点与流转记录；不在本人权限范围内时返回 404。",
        responses={200: ApplicationDetailOutputSerializer, **error_responses(401, 403, 404, 429)},
        parameters=ERROR_HEADERS,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
