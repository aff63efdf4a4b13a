from __future__ import annotations

from wtforms import BooleanField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length

from contest.forms import BaseForm


class LoginForm(BaseForm):
    login = StringField("账号", validators=[DataRequired(message="请输入账号"), Length(max=64)])
    password = PasswordField("密码", validators=[DataRequired(message="请输入密码")])
    remember = BooleanField("在本机保持登录（公用电脑请勿勾选）")
    submit = SubmitField("登录")


class ChangePasswordForm(BaseForm):
    current = PasswordField("当前密码", validators=[DataRequired(message="请输入当前密码")])
    new = PasswordField("新密码", validators=[
        DataRequired(message="请输入新密码"),
        Length(min=8, max=128, message="新密码长度为8到128个字符")])
    confirm = PasswordField("再次输入新密码", validators=[
        DataRequired(message="请再次输入新密码"), EqualTo("new", message="两次输入的新密码不一致")])
    submit = SubmitField("修改密码")
