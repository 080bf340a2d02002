"""The taxpayer API (DRF): thin views over the same selectors and FilterSet as the pages.

Identifiers and phone numbers are masked here as in lists; the full values are only
shown on the detail page, to roles allowed to see them, and that view is audited.
"""

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.reverse import reverse

from accounts.api_schema import ERROR_HEADERS, error_responses
from core.masking import mask_identifier, mask_mobile

from .filters import TaxpayerFilter
from .industry import parse_industry_code
from .models import Taxpayer, VatReturn
from .selectors import returns_for_taxpayer, taxpayer_get_for_user, taxpayer_list_for_user


class CanViewTaxpayers(BasePermission):
    message = "您的岗位无权查看纳税人信息。"

    def has_permission(self, request, view):
        return request.user.has_perm("taxpayers.view_taxpayer")


class MaskedIdentifierField(serializers.CharField):
    def to_representation(self, value):
        return mask_identifier(value)


class MaskedMobileField(serializers.CharField):
    def to_representation(self, value):
        return mask_mobile(value)


class BranchOutputSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class IndustryOutputSerializer(serializers.Serializer):
    """国民经济行业分类（GB/T 4754-2017）门类与大类；行业代码无效时为 null。"""

    code = serializers.CharField(help_text="规范化的行业代码，如 C3411")
    section = serializers.CharField(help_text="门类字母")
    section_name = serializers.CharField(help_text="门类名称")
    division = serializers.CharField(help_text="大类代码")
    division_name = serializers.CharField(help_text="大类名称")

    def to_representation(self, instance):
        # ``instance`` is the taxpayer's raw industry_code (source="industry_code").
        industry = parse_industry_code(instance)
        return None if industry is None else super().to_representation(industry)


class TaxpayerListOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="纳税人记录编号：详情和申报接口按它查询")
    identifier = MaskedIdentifierField(help_text="纳税人识别号（脱敏）")
    name = serializers.CharField()
    url = serializers.SerializerMethodField(help_text="本纳税人的详情接口地址")
    branch = BranchOutputSerializer()
    status = serializers.ChoiceField(choices=Taxpayer.Status.choices)
    industry_code = serializers.CharField()
    industry = IndustryOutputSerializer(source="industry_code", allow_null=True)
    is_general_taxpayer = serializers.BooleanField()
    credit_level = serializers.CharField(help_text="最近一次纳税信用评价结果：A、B、M、C、D；空表示未评价")
    credit_year = serializers.IntegerField(allow_null=True, help_text="该评价结果的评价年度；未评价为 null")
    size = serializers.CharField(help_text="micro、small、medium、large；空表示未划型")
    legal_rep_name = serializers.CharField()
    legal_rep_mobile = MaskedMobileField(help_text="法定代表人手机（脱敏）")
    is_export_enterprise = serializers.BooleanField()
    is_key_taxpayer = serializers.BooleanField()

    def get_url(self, obj: Taxpayer) -> str:
        return reverse("api:taxpayer-detail", args=[obj.pk], request=self.context.get("request"))


class TaxpayerDetailOutputSerializer(TaxpayerListOutputSerializer):
    registered_on = serializers.DateField()
    general_taxpayer_since = serializers.DateField(allow_null=True)
    filing_frequency = serializers.ChoiceField(choices=Taxpayer.FilingFrequency.choices)
    size_industry = serializers.CharField()
    employees = serializers.IntegerField(allow_null=True)
    prev_year_vat_sales = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)
    prev_year_months_operated = serializers.IntegerField(allow_null=True)
    total_assets_prev_year_end = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)
    finance_contact_name = serializers.CharField()
    finance_contact_mobile = MaskedMobileField(help_text="财务负责人手机（脱敏）")
    tax_handler_name = serializers.CharField()
    tax_handler_mobile = MaskedMobileField(help_text="办税人手机（脱敏）")
    updated_at = serializers.DateTimeField()


def _money(**kwargs):
    return serializers.DecimalField(max_digits=16, decimal_places=2, **kwargs)


class VatReturnOutputSerializer(serializers.Serializer):
    period = serializers.CharField(help_text="所属期 YYYY-MM")
    filed_on = serializers.DateField(allow_null=True)
    sales_total = _money()
    output_tax = _money()
    input_tax_total = _money(help_text="进项税额合计")
    input_special_invoice = _money()
    input_motor_vehicle_invoice = _money()
    input_customs = _money()
    input_tax_payment_certificate = _money()
    input_toll_road_e_invoice = _money()
    input_air_e_invoice = _money()
    input_railway_e_ticket = _money()
    input_agricultural = _money()
    input_other = _money()
    input_transferred_out = _money()
    tax_payable = _money()
    end_credit = _money()
    credit_refunded = _money()
    vat_arrears = _money()
    approved_unbooked_export_refund = _money()


class TaxpayerListApi(generics.ListAPIView):
    """纳税人列表: the same filters as the page, limited to the caller's branches, masked."""

    permission_classes = (IsAuthenticated, CanViewTaxpayers)
    serializer_class = TaxpayerListOutputSerializer
    # Declared so the schema documents the FilterSet's parameters; the filtering itself runs in the
    # selector (strict: an invalid value is a 400), the one path shared with the page and the export.
    filter_backends = (DjangoFilterBackend,)
    filterset_class = TaxpayerFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Taxpayer.objects.none()
        return taxpayer_list_for_user(user=self.request.user, filters=self.request.query_params, strict=True)

    def filter_queryset(self, queryset):
        return queryset

    @extend_schema(
        operation_id="taxpayers_list",
        summary="纳税人列表",
        description="按筛选条件列出本人权限范围内的纳税人（默认只列一般纳税人），识别号与电话已脱敏。"
        "筛选条件无效时返回 400 及各字段的错误。",
        responses={
            200: TaxpayerListOutputSerializer(many=True),
            **error_responses(
                400,
                401,
                403,
                404,
                429,
                description_400="筛选条件无效（invalid_filters）：errors 列出各筛选条件的错误",
                description_404="页码超出范围",
            ),
        },
        parameters=ERROR_HEADERS,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class TaxpayerDetailApi(generics.RetrieveAPIView):
    """One taxpayer by record id; 404 outside the caller's branches."""

    permission_classes = (IsAuthenticated, CanViewTaxpayers)
    serializer_class = TaxpayerDetailOutputSerializer
    filter_backends = ()

    def get_object(self):
        return taxpayer_get_for_user(user=self.request.user, pk=self.kwargs["id"])

    @extend_schema(
        operation_id="taxpayers_retrieve",
        summary="纳税人详情",
        description="按纳税人记录编号（列表中的 id）取一户纳税人（识别号与电话已脱敏）；不在本人权限范围内时返回 404。",
        responses={200: TaxpayerDetailOutputSerializer, **error_responses(401, 403, 404, 429)},
        parameters=ERROR_HEADERS,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class TaxpayerReturnsApi(generics.ListAPIView):
    """A taxpayer's VAT returns, newest period first; 404 outside the caller's branches."""

    permission_classes = (IsAuthenticated, CanViewTaxpayers)
    serializer_class = VatReturnOutputSerializer
    filter_backends = ()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return VatReturn.objects.none()
        taxpayer = taxpayer_get_for_user(user=self.request.user, pk=self.kwargs["id"])
        return returns_for_taxpayer(taxpayer)

    @extend_schema(
        operation_id="taxpayers_returns_list",
        summary="纳税人增值税申报",
        description="一户纳税人的增值税申报表，所属期由近及远；金额单位为元（字符串，两位小数）。"
        "不在本人权限范围内时返回 404。",
        responses={
            200: VatReturnOutputSerializer(many=True),
            **error_responses(401, 403, 404, 429, description_404="纳税人不存在或不在本人权限范围内，或页码超出范围"),
        },
        parameters=ERROR_HEADERS,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
