"""The forms of 集体会商's pages: opening (事由 and 参会人), inviting, an opinion, and the decision with the minutes."""

from __future__ import annotations

from django import forms

from ..models import Consultation, ConsultationParticipant

TEXTAREA = {"class": "form-control form-control-sm", "rows": 3}


class ParticipantsField(forms.MultipleChoiceField):
    """Officers grouped by section (``{section label: [users]}``); cleans to the users chosen."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, *, grouped: dict, **kwargs):
        self.users = {str(user.pk): user for rows in grouped.values() for user in rows}
        choices = [
            (label, [(str(user.pk), user.full_name or user.username) for user in rows])
            for label, rows in grouped.items()
        ]
        super().__init__(choices=choices, **kwargs)

    def clean(self, value):
        return [self.users[pk] for pk in super().clean(value)]


class ConsultationOpenForm(forms.Form):
    reason = forms.CharField(
        label="提请会商事由",
        max_length=500,
        widget=forms.Textarea(attrs=TEXTAREA),
        error_messages={"required": "请填写提请会商事由。"},
    )

    def __init__(self, *args, grouped: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["participants"] = ParticipantsField(grouped=grouped, label="邀请参会人", required=False)


class ParticipantsForm(forms.Form):
    def __init__(self, *args, grouped: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["users"] = ParticipantsField(
            grouped=grouped, label="邀请参会人", error_messages={"required": "请选择要邀请的参会人。"}
        )


class OpinionForm(forms.Form):
    opinion = forms.ChoiceField(
        label="意见",
        choices=ConsultationParticipant.Opinion.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "请选择意见：同意、不同意或补充意见。"},
    )
    text = forms.CharField(
        label="意见内容",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs=TEXTAREA),
        help_text="不同意或补充意见须写明理由。",
    )


class DecisionForm(forms.Form):
    minutes = forms.CharField(
        label="会议纪要",
        max_length=20000,
        widget=forms.Textarea(attrs={**TEXTAREA, "rows": 5}),
        error_messages={"required": "请填写会议纪要。"},
    )
    decision = forms.ChoiceField(
        label="会商决定",
        choices=Consultation.Decision.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "请选择会商决定。"},
    )
    note = forms.CharField(
        label="决定说明",
        required=False,
        max_length=450,
        widget=forms.TextInput(attrs={"class": "form-control form-control-sm"}),
        help_text="退回申请或不予退税时必填，作为对申请的处理原因。",
    )
