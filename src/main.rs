fn main() {
    println!("sqsim");
}
