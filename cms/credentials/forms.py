from django import forms


class LoginForm(forms.Form):
    username = forms.CharField(
        label="用户名",
        max_length=150,
        error_messages={"required": "请输入用户名。"},
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label="密码",
        strip=False,
        error_messages={"required": "请输入密码。"},
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label="动态口令或备用码",
        max_length=32,
        error_messages={"required": "请输入动态口令或备用码。"},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}
        ),
    )


class TotpConfirmForm(forms.Form):
    code = forms.CharField(
        label="手机应用显示的六位数字",
        max_length=10,
        error_messages={"required": "请输入六位动态口令。"},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="原因",
        max_length=500,
        error_messages={"required": "请填写原因。"},
        widget=forms.Textarea(attrs={"rows": 2}),
    )
