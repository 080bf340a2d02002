"""数据导入: the import jobs list, the upload form, a job's progress and errors, and the xlsx downloads.

Imports are bureau-level work (no branch scoping): viewing needs ``taxpayers.view_importjob``,
uploading ``taxpayers.add_importjob`` (refund officers and administrators).
"""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from accounts.models import Branch
from core.errors import ApplicationError
from core.listing import paginate, sort_columns, sort_order
from core.xlsx import file_download

from . import imports
from .models import ImportJob
from .services import import_errors_export, import_file_open, import_job_submit, mask_error_mobiles

VIEW_PERMISSION = "taxpayers.view_importjob"
ADD_PERMISSION = "taxpayers.add_importjob"
CONTACTS_PERMISSION = "taxpayers.view_taxpayer_contacts"

# The same colour for the same meaning on every page.
STATUS_TAGS = {
    ImportJob.Status.PENDING: "tag-waiting",
    ImportJob.Status.VALIDATING: "tag-progress",
    ImportJob.Status.APPLYING: "tag-progress",
    ImportJob.Status.SUCCEEDED: "tag-done",
    ImportJob.Status.FAILED: "tag-failed",
}


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(label="导入类型", choices=ImportJob.Kind.choices, widget=forms.RadioSelect)
    file = forms.FileField(label="文件", help_text="xlsx 或 csv（UTF-8 或 GBK 编码），第一行为表头，请使用导入模板。")

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        try:
            imports.file_format(uploaded.name)
        except imports.FileFormatError as exc:
            raise forms.ValidationError(exc.message) from exc
        if uploaded.size > imports.MAX_UPLOAD_BYTES:
            raise forms.ValidationError(f"文件超过 {imports.MAX_UPLOAD_BYTES // (1024 * 1024)} MB，请拆分后分批导入。")
        return uploaded


COUNT_FIELDS = ("total_rows", "processed_rows", "created_count", "updated_count", "unchanged_count", "error_count")


def _tagged(job: ImportJob) -> ImportJob:
    """The status tag's colour and the counts as ``1,234,567`` (the zh-hans locale groups without a separator)."""
    job.tag = STATUS_TAGS.get(job.status, "tag-waiting")
    job.shown = {name: f"{getattr(job, name):,}" for name in COUNT_FIELDS}
    return job


JOB_COLUMNS = {"created": "上传时间", "name": "文件名", "total": "总行数", "errors": "错误"}
"""数据导入's sortable columns (header links; ``sort`` in the URL, ``-`` for descending)."""
JOB_SORT_FIELDS = {
    "created": ("created_at",),
    "name": ("original_name",),
    "total": ("total_rows",),
    "errors": ("error_count",),
}
JOB_SORT = "-created"


@login_required
@permission_required(VIEW_PERMISSION, raise_exception=True)
def import_list(request):
    """Every import, newest first, filtered by kind and status (kept in the URL)."""
    jobs = ImportJob.objects.select_related("created_by").defer("errors")
    filters = {}
    kind = request.GET.get("kind", "")
    if kind in ImportJob.Kind.values:
        jobs = jobs.filter(kind=kind)
        filters["kind"] = kind
    status = request.GET.get("status", "")
    if status in ImportJob.Status.values:
        jobs = jobs.filter(status=status)
        filters["status"] = status
    jobs = jobs.order_by(*sort_order(request.GET.get("sort"), JOB_SORT_FIELDS, default=JOB_SORT))
    listing = paginate(request, jobs)
    for job in listing.page_obj:
        _tagged(job)
    return render(
        request,
        "taxpayers/import_list.html",
        {
            "page_obj": listing.page_obj,
            "page_query": listing.page_query,
            "columns": sort_columns(request, JOB_COLUMNS, default=JOB_SORT),
            "filters": filters,
            "kinds": ImportJob.Kind.choices,
            "statuses": ImportJob.Status.choices,
            "can_upload": request.user.has_perm(ADD_PERMISSION),
        },
    )


@login_required
@permission_required(ADD_PERMISSION, raise_exception=True)
def import_upload(request):
    """Small files are imported in this request; larger ones go to a worker and the detail page shows progress."""
    if request.method == "POST":
        form = ImportUploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                job = import_job_submit(
                    actor=request.user, kind=form.cleaned_data["kind"], uploaded_file=form.cleaned_data["file"]
                )
            except ApplicationError as exc:
                form.add_error("file", exc.message)
            else:
                if job.status == ImportJob.Status.SUCCEEDED:
                    messages.success(
                        request,
                        f"导入成功：新增 {job.created_count}，更新 {job.updated_count}，未变化 {job.unchanged_count}。",
                    )
                elif job.status == ImportJob.Status.FAILED:
                    messages.error(request, job.message or "导入失败，未写入任何数据。")
                else:
                    messages.info(request, "文件较大，已转入后台处理。可以离开本页，稍后在导入记录中查看结果。")
                return redirect("taxpayers:import_detail", pk=job.pk)
    else:
        initial_kind = request.GET.get("kind")
        form = ImportUploadForm(initial={"kind": initial_kind if initial_kind in ImportJob.Kind.values else None})
    return render(
        request,
        "taxpayers/import_upload.html",
        {"form": form, "kinds": ImportJob.Kind.choices, "inline_max_kb": _inline_max_kb()},
    )


def _inline_max_kb() -> int:
    return settings.IMPORT_INLINE_MAX_BYTES // 1024


@login_required
@permission_required(VIEW_PERMISSION, raise_exception=True)
def import_detail(request, pk: int):
    """Counts, a progress bar that htmx polls every second until the job ends, and the row-level errors."""
    job = _tagged(get_object_or_404(ImportJob.objects.select_related("created_by"), pk=pk))
    if request.htmx:
        response = render(request, "taxpayers/import_progress.html", {"job": job})
        if job.is_finished:
            response["HX-Refresh"] = "true"  # reload once to show the result, messages and errors
        return response
    errors = job.errors
    if not request.user.has_perm(CONTACTS_PERMISSION):
        errors = [mask_error_mobiles(error) for error in errors]
    return render(
        request,
        "taxpayers/import_detail.html",
        {
            "job": job,
            "errors": errors,
            "errors_truncated": job.error_count > len(errors),
            "can_upload": request.user.has_perm(ADD_PERMISSION),
        },
    )


@login_required
@permission_required(VIEW_PERMISSION, raise_exception=True)
def import_errors_download(request, pk: int):
    job = get_object_or_404(ImportJob, pk=pk)
    if not job.errors:
        raise Http404("this import has no errors")
    content = import_errors_export(
        actor=request.user, job=job, mask_mobiles=not request.user.has_perm(CONTACTS_PERMISSION)
    )
    return file_download(content, f"导入错误明细-{job.pk}-{timezone.localdate():%Y%m%d}.xlsx")


@login_required
@permission_required(ADD_PERMISSION, raise_exception=True)
def import_file_download(request, pk: int):
    """The file as uploaded, kept so a failed import can be inspected."""
    job = get_object_or_404(ImportJob, pk=pk)
    if not job.file or not job.file.storage.exists(job.file.name):
        raise Http404("the uploaded file is no longer stored")
    return file_download(import_file_open(actor=request.user, job=job), job.original_name)


@login_required
@permission_required(VIEW_PERMISSION, raise_exception=True)
def import_template_download(request, kind: str):
    """An xlsx template with the Chinese headers, one example row, identifier columns formatted as text."""
    if kind not in ImportJob.Kind.values:
        raise Http404("unknown import kind")
    branch = Branch.objects.filter(kind=Branch.Kind.BRANCH).order_by("sort_order", "code").first()
    content = imports.build_template(
        kind, branch_example=branch.name if branch else "城东税务分局", today=timezone.localdate()
    )
    return file_download(content, f"{ImportJob.Kind(kind).label}导入模板.xlsx")
